import NIOCore

/// A complete WebSocket data message (RFC 6455 §5.6).
///
/// The payload stays a `ByteBuffer` so that echoing or forwarding a message costs no copy;
/// ``text`` decodes a text message (already validated as UTF-8 on receipt).
public struct WebSocketMessage: Hashable, Sendable, CustomStringConvertible {
    /// Text or binary.
    public enum Kind: Hashable, Sendable {
        /// Opcode 0x1: UTF-8 text.
        case text
        /// Opcode 0x2: binary data.
        case binary
    }

    /// Whether the message is text or binary.
    public var kind: Kind
    /// The payload (UTF-8 for text).
    public var data: ByteBuffer

    /// Creates a message from a payload buffer.
    public init(kind: Kind, data: ByteBuffer) {
        self.kind = kind
        self.data = data
    }

    /// A text message.
    public static func text(_ string: String) -> WebSocketMessage {
        WebSocketMessage(kind: .text, data: ByteBuffer(string: string))
    }

    /// A binary message.
    public static func binary(_ bytes: some Sequence<UInt8>) -> WebSocketMessage {
        WebSocketMessage(kind: .binary, data: ByteBuffer(bytes: bytes))
    }

    /// A binary message from a buffer (no copy).
    public static func binary(_ buffer: ByteBuffer) -> WebSocketMessage {
        WebSocketMessage(kind: .binary, data: buffer)
    }

    /// The text of a text message; nil for binary messages.
    public var text: String? {
        guard kind == .text else { return nil }
        return String(buffer: data)
    }

    /// The payload as an array of bytes.
    public var bytes: [UInt8] { Array(data.readableBytesView) }

    /// The opcode this message travels with.
    public var opcode: Opcode { kind == .text ? .text : .binary }

    public var description: String {
        "\(kind == .text ? "text" : "binary") message, \(data.readableBytes) bytes"
    }
}
