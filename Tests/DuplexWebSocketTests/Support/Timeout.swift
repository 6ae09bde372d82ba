import Foundation
import Logging

/// A test body that did not finish in time.
struct TestTimedOut: Error, CustomStringConvertible {
    var limit: Duration
    var description: String { "the test did not finish within \(limit)" }
}

/// Runs `body`, cancelling it and throwing ``TestTimedOut`` after `limit`, so that no test hangs.
func withTimeout<T: Sendable>(
    _ limit: Duration = .seconds(30),
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw TestTimedOut(limit: limit) }
        return value
    }
}

/// Polls `condition` every few milliseconds until it holds; throws ``TestTimedOut`` after `limit`.
/// For waiting on state that has no event to await (a counter that stops moving, a registry that
/// fills); assertions are then made on values, never on durations.
func waitUntil(
    _ limit: Duration = .seconds(10),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + limit
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TestTimedOut(limit: limit) }
        try await Task.sleep(for: .milliseconds(5))
    }
}

extension Logger {
    /// The tests' logger: silent, unless `DUPLEX_TEST_LOG` is set (then debug output to stderr).
    static let test: Logger = {
        if ProcessInfo.processInfo.environment["DUPLEX_TEST_LOG"] != nil {
            var logger = Logger(label: "duplex.tests", factory: { StreamLogHandler.standardError(label: $0) })
            logger.logLevel = .trace
            return logger
        }
        return Logger(label: "duplex.tests", factory: { _ in SwiftLogNoOpLogHandler() })
    }()
}

/// `count` random bytes, generated eight at a time (per-byte generation is slow in debug builds).
func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count + 8)
    while bytes.count < count {
        withUnsafeBytes(of: generator.next() as UInt64) { bytes.append(contentsOf: $0) }
    }
    return Array(bytes.prefix(count))
}
