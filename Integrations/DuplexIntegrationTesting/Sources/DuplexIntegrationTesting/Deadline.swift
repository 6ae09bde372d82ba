/// Runs `body`, failing with ``DeploymentCheckFailure`` if it takes longer than `limit`: every
/// wait of the checks is bounded.
func withDeadline<Result: Sendable>(
    _ limit: Duration,
    _ what: String,
    _ body: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Result?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let result = first else {
            throw DeploymentCheckFailure("\(what): nothing within \(limit)")
        }
        return result
    }
}
