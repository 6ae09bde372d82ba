import NIOCore

/// A WebSocket message as the Engine.IO layer sees it: one Engine.IO packet per message
/// (protocol.md 4.1.5). The adapter converts it to and from the WebSocket layer's messages.
public enum EngineIOWebSocketFrame: Hashable, Sendable, CustomStringConvertible {
    /// A text message (`<digit><data>`, or `b<base64>`).
    case text(String)
    /// A binary message (v4: the raw message bytes; v3: a type byte, then the bytes).
    case binary(ByteBuffer)

    /// The size of the message in bytes.
    public var byteCount: Int {
        switch self {
        case .text(let text): return text.utf8.count
        case .binary(let bytes): return bytes.readableBytes
        }
    }

    public var description: String {
        switch self {
        case .text(let text): return "text \(EngineIOPacketData.text(text))"
        case .binary(let bytes): return "binary <\(bytes.readableBytes) bytes>"
        }
    }
}
