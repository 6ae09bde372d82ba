import DuplexEngineIO
import DuplexEngineIOCore
import NIOCore
import Testing

/// `count` text messages `prefix0`, `prefix1`, … and, interleaved every third, binary ones.
func numberedMessages(_ prefix: String, count: Int) -> [EngineIOPacketData] {
    (0..<count).map { index in
        index % 3 == 2 ? .binary(ByteBuffer(bytes: Array("\(prefix)\(index)".utf8) + [0, 0xFF])) : .text("\(prefix)\(index)")
    }
}

extension EngineIOClientMessages.AsyncIterator {
    /// Reads exactly `count` messages (fewer if the session ends).
    mutating func next(_ count: Int) async throws -> [EngineIOPacketData] {
        var result: [EngineIOPacketData] = []
        while result.count < count, let message = try await next() { result.append(message) }
        return result
    }
}

/// Waits until the socket reports `transport`; false if the session ended first.
func waitForTransport(_ transport: EngineIOTransport, on socket: EngineIOClientSocket) async -> Bool {
    for await current in socket.transportUpdates where current == transport { return true }
    return false
}

/// Runs `operation`, failing with a timeout error after `limit`.
func withDeadline<Result: Sendable>(
    _ limit: Duration = .seconds(20),
    _ operation: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Result?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let result = first else {
            throw DeadlineExceeded(limit: limit)
        }
        return result
    }
}

/// An operation did not finish in time.
struct DeadlineExceeded: Error, CustomStringConvertible {
    var limit: Duration
    var description: String { "the operation did not finish within \(limit)" }
}
