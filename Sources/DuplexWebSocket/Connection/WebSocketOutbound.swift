import DuplexWebSocketCore
import NIOCore

/// A request from the application to the connection handler.
public enum WebSocketOutbound: Sendable {
    /// Send a whole message.
    case message(WebSocketMessage)
    /// Send one fragment of a streamed message (RFC 6455 §5.4).
    case fragment(WebSocketMessage.Kind, ByteBuffer, isFinal: Bool)
    /// Send a ping with this payload (at most 125 bytes).
    case ping(ByteBuffer)
    /// Start the closing handshake.
    case close(CloseCode, reason: String)
}
