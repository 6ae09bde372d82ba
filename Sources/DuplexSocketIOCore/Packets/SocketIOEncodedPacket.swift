import NIOCore

/// A packet as it goes on the wire: one text message, then one binary message per attachment.
public struct SocketIOEncodedPacket: Hashable, Sendable {
    /// The text message (without the Engine.IO `4` prefix).
    public var text: String
    /// The binary messages that follow the text, in placeholder order.
    public var attachments: [ByteBuffer]

    /// Creates an encoded packet.
    public init(text: String, attachments: [ByteBuffer] = []) {
        self.text = text
        self.attachments = attachments
    }
}
