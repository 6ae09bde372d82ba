/// A wait in a test that took longer than its bound.
public struct BoundedWaitTimeout: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) {
        self.description = description
    }
}

/// Runs `body`, failing with ``BoundedWaitTimeout`` if it takes longer than `limit`: every wait
/// in the tests is bounded.
public func boundedWait<Result: Sendable>(
    _ limit: Duration,
    _ what: String = "operation",
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
            throw BoundedWaitTimeout(description: "\(what) did not finish within \(limit)")
        }
        return result
    }
}
