import DuplexEngineIO
import DuplexSocketIOCore

/// A packet encoded once, ready to be queued to any number of sockets of its namespace: the
/// text message and its binary attachments as Engine.IO messages (protocol.md 4.2.1).
///
/// EVENT and ACK packets encode identically in protocols v4 and v5, so one encoding serves
/// every client.
public struct SocketIOOutgoingPacket: Sendable {
    /// The packet.
    public let packet: SocketIOPacket
    /// The Engine.IO messages: the text, then one binary message per attachment.
    let messages: [EngineIOMessage]

    /// Encodes `packet` (an EVENT or ACK).
    public init(_ packet: SocketIOPacket) {
        self.packet = packet
        self.messages = Self.messages(SocketIOPacketEncoder().encode(packet))
    }

    static func messages(_ encoded: SocketIOEncodedPacket) -> [EngineIOMessage] {
        var messages: [EngineIOMessage] = [.text(encoded.text)]
        if !encoded.attachments.isEmpty {
            messages.reserveCapacity(1 + encoded.attachments.count)
            for attachment in encoded.attachments { messages.append(.binary(attachment)) }
        }
        return messages
    }
}
