import DuplexSocketIOCore
import NIOCore
import Testing

/// The examples of protocol.md 4.2.3 ("Text encoding") and 4.2.4 ("Binary attachments"),
/// as (wire text, attachments, packet). Decoded binary packets report EVENT/ACK, so the
/// packets here are EVENT/ACK and the wire shows the promoted type.
enum ProtocolExamples {
    static let first = ByteBuffer(bytes: [0x01, 0x02, 0x03])
    static let second = ByteBuffer(bytes: [0xFF])

    struct Example: Sendable, CustomTestStringConvertible {
        var text: String
        var attachments: [ByteBuffer]
        var packet: SocketIOPacket
        var testDescription: String { text }
    }

    static let table: [Example] = [
        Example(text: "0", attachments: [], packet: .connect()),
        Example(text: #"0/admin,{"token":"123"}"#, attachments: [], packet: .connect(namespace: "/admin", data: ["token": "123"])),
        Example(
            text: #"0{"sid":"wZX3oN0bSVIhsaknAAAI"}"#,
            attachments: [],
            packet: .connect(data: ["sid": "wZX3oN0bSVIhsaknAAAI"])
        ),
        Example(text: #"4{"message":"Not authorized"}"#, attachments: [], packet: .connectError(message: "Not authorized")),
        Example(text: #"2["foo"]"#, attachments: [], packet: .event("foo")),
        Example(text: #"2/admin,["bar"]"#, attachments: [], packet: .event("bar", namespace: "/admin")),
        Example(text: #"212["foo"]"#, attachments: [], packet: .event("foo", ackID: 12)),
        Example(text: #"3/admin,13["bar"]"#, attachments: [], packet: .ack(["bar"], namespace: "/admin", ackID: 13)),
        Example(text: "1", attachments: [], packet: .disconnect()),
        Example(text: "1/admin,", attachments: [], packet: .disconnect(namespace: "/admin")),
        Example(
            text: #"51-["baz",{"_placeholder":true,"num":0}]"#,
            attachments: [first],
            packet: .event("baz", [.binary(first)])
        ),
        Example(
            text: #"52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
            attachments: [first, second],
            packet: .event("baz", [.binary(first), .binary(second)], namespace: "/admin")
        ),
        Example(
            text: #"61-15["bar",{"_placeholder":true,"num":0}]"#,
            attachments: [first],
            packet: .ack(["bar", .binary(first)], ackID: 15)
        ),
        // protocol.md 4.2.4 "Full wire examples" (without the Engine.IO "4" prefix).
        Example(
            text: #"51-["message",{"_placeholder":true,"num":0}]"#,
            attachments: [first],
            packet: .event("message", [.binary(first)])
        ),
    ]
}

extension SocketIOPacketDecoder {
    /// Feeds `text` then `attachments`, expecting exactly one packet at the end.
    mutating func decode(_ text: String, attachments: [ByteBuffer] = []) throws(SocketIOError) -> SocketIOPacket? {
        var output = try textReceived(text)
        for attachment in attachments {
            output = try binaryReceived(attachment)
        }
        guard case .packet(let packet) = output else { return nil }
        return packet
    }
}
