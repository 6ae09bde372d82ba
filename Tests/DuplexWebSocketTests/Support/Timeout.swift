import Foundation
import Logging
import Synchronization

/// A test body that did not finish in time.
struct TestTimedOut: Error, CustomStringConvertible {
    var limit: Duration
    var description: String { "the test did not finish within \(limit)" }
}

/// Runs `body`; after `limit`, cancels it and throws ``TestTimedOut`` without waiting for it to
/// finish (code that does not react to cancellation cannot stall the test run), so no test hangs.
func withTimeout<T: Sendable>(
    _ limit: Duration = .seconds(45),
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let outcome = OneShot<Result<T, any Error>>()
    let work = Task {
        let result: Result<T, any Error>
        do {
            result = .success(try await body())
        } catch {
            result = .failure(error)
        }
        outcome.complete(result)
    }
    let timer = Task {
        try await Task.sleep(for: limit)
        outcome.complete(.failure(TestTimedOut(limit: limit)))
    }
    let result = await withTaskCancellationHandler {
        await outcome.value
    } onCancel: {
        work.cancel()
    }
    timer.cancel()
    work.cancel()
    return try result.get()
}

/// A value set once and awaited by one task.
final class OneShot<Value: Sendable>: Sendable {
    private let state = Mutex<(value: Value?, waiter: CheckedContinuation<Value, Never>?)>((nil, nil))

    /// Sets the value, the first time only.
    func complete(_ value: Value) {
        let waiter: CheckedContinuation<Value, Never>? = state.withLock { state in
            guard state.value == nil else { return nil }
            state.value = value
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: value)
    }

    var value: Value {
        get async {
            await withCheckedContinuation { continuation in
                let ready: Value? = state.withLock { state in
                    if let value = state.value { return value }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }
}

/// Polls `condition` every few milliseconds until it holds; throws ``TestTimedOut`` after `limit`.
/// For waiting on state that has no event to await (a counter that stops moving, a registry that
/// fills); assertions are then made on values, never on durations.
func waitUntil(
    _ limit: Duration = .seconds(20),
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
