import DuplexEngineIOCore
import DuplexWebSocket
import DuplexWebSocketCore
import NIOCore

/// Duplex's own ``WebSocketConnection`` as an ``EngineIOServerWebSocket``, so that the standalone
/// server can run the same `accept` as the framework integrations.
struct EngineIOWebSocketConnectionAdapter: EngineIOServerWebSocket {
    let connection: WebSocketConnection

    var inbound: Frames { Frames(messages: connection.messages) }

    var eventLoop: (any EventLoop)? { connection.eventLoop }

    func send(_ frame: EngineIOWebSocketFrame) async throws {
        try await connection.send(EngineIOServer.webSocketMessage(frame))
    }

    func send(contentsOf frames: [EngineIOWebSocketFrame]) async throws {
        try await connection.send(contentsOf: frames.lazy.map(EngineIOServer.webSocketMessage))
    }

    var supportsTrySend: Bool { true }

    func trySend(contentsOf frames: [EngineIOWebSocketFrame]) -> Bool {
        // One frame is the common case (a broadcast's recipient): no array of messages for it.
        if frames.count == 1, let frame = frames.first {
            return connection.trySend(EngineIOServer.webSocketMessage(frame))
        }
        return connection.trySend(contentsOf: frames.map(EngineIOServer.webSocketMessage))
    }

    func close(code: CloseCode, reason: String) async throws {
        try await connection.close(code: code, reason: reason)
    }

    /// The connection's messages as Engine.IO frames (protocol.md 4.1.5).
    struct Frames: AsyncSequence {
        typealias Element = EngineIOWebSocketFrame
        typealias Failure = any Error

        let messages: WebSocketInboundMessages

        func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(messages: messages.makeAsyncIterator())
        }

        struct AsyncIterator: AsyncIteratorProtocol {
            var messages: WebSocketInboundMessages.AsyncIterator

            mutating func next() async throws -> EngineIOWebSocketFrame? {
                try await messages.next().map(EngineIOServer.engineIOFrame)
            }
        }
    }
}
