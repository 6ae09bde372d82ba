import DuplexEngineIO
import DuplexWebSocketCore
import HummingbirdWebSocket
import NIOCore
import NIOWebSocket

/// A Hummingbird WebSocket as ``EngineIOServer/accept(_:request:remoteAddress:)`` serves it:
/// translation only.
struct HummingbirdEngineIOWebSocket: EngineIOServerWebSocket {
    let inboundStream: WebSocketInboundStream
    let outbound: WebSocketOutboundWriter
    let maxMessageSize: Int

    init(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, maxMessageSize: Int) {
        self.inboundStream = inbound
        self.outbound = outbound
        self.maxMessageSize = maxMessageSize
    }

    /// The largest WebSocket message read: above `maxHttpBufferSize`, so that Engine.IO closes
    /// an oversized message's session itself (protocol.md 4.1.5), as in every deployment mode.
    static func maxMessageSize(_ configuration: EngineIOServerConfiguration) -> Int {
        configuration.maxHttpBufferSize + 64 * 1024
    }

    var inbound: Frames { Frames(messages: inboundStream.messages(maxSize: maxMessageSize)) }

    func send(_ frame: EngineIOWebSocketFrame) async throws {
        switch frame {
        case .text(let text): try await outbound.write(.text(text))
        case .binary(let bytes): try await outbound.write(.binary(bytes))
        }
    }

    func close(code: CloseCode, reason: String) async throws {
        try await outbound.close(WebSocketErrorCode(codeNumber: Int(code.rawValue)), reason: reason)
    }

    /// Hummingbird's messages as Engine.IO frames (protocol.md 4.1.5: one packet per message).
    struct Frames: AsyncSequence {
        typealias Element = EngineIOWebSocketFrame
        typealias Failure = any Error

        let messages: WebSocketInboundMessageStream

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(messages: messages.makeAsyncIterator()) }

        struct AsyncIterator: AsyncIteratorProtocol {
            var messages: WebSocketInboundMessageStream.AsyncIterator

            mutating func next() async throws -> EngineIOWebSocketFrame? {
                switch try await messages.next() {
                case .text(let text): return .text(text)
                case .binary(let bytes): return .binary(bytes)
                case nil: return nil
                }
            }
        }
    }
}

extension HummingbirdWebSocket.WebSocketServerConfiguration {
    /// Hummingbird WebSocket settings for an Engine.IO server: frames up to a little above
    /// ``EngineIOServerConfiguration/maxHttpBufferSize`` (Engine.IO enforces the exact limit
    /// itself), no automatic pings (Engine.IO has its own heartbeat, protocol.md 4.1.6) and UTF-8
    /// validation of text messages (RFC 6455 §8.1).
    public static func engineIO(_ configuration: EngineIOServerConfiguration) -> Self {
        Self(
            maxFrameSize: HummingbirdEngineIOWebSocket.maxMessageSize(configuration),
            autoPing: .disabled,
            validateUTF8: true
        )
    }
}
