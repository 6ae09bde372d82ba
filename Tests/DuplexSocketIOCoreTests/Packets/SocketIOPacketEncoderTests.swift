import DuplexSocketIOCore
import NIOCore
import Testing

@Suite("Packet encoding (protocol.md 4.2.3, 4.2.4)")
struct SocketIOPacketEncoderTests {
    @Test("4.2.3 examples encode to their wire text", arguments: ProtocolExamples.table)
    func examples(example: ProtocolExamples.Example) {
        let encoder = SocketIOPacketEncoder()
        let encoded = encoder.encode(example.packet)
        #expect(encoded == SocketIOEncodedPacket(text: example.text, attachments: example.attachments))
    }

    @Test("4.2.4 full wire example: one text message then one binary message")
    func fullWireExample() {
        let encoder = SocketIOPacketEncoder()
        let encoded = encoder.encode(.event("message", [.binary(ByteBuffer(bytes: [1, 2, 3]))]))
        #expect("4" + encoded.text == #"451-["message",{"_placeholder":true,"num":0}]"#)
        #expect(encoded.attachments == [ByteBuffer(bytes: [1, 2, 3])])
    }

    @Test("4.2.4: placeholders are numbered in discovery order, depth first")
    func discoveryOrder() {
        let (a, b, c) = (ByteBuffer(bytes: [0xA]), ByteBuffer(bytes: [0xB]), ByteBuffer(bytes: [0xC]))
        let encoder = SocketIOPacketEncoder()
        let encoded = encoder.encode(
            .ack([["x": .binary(a), "y": [.binary(b)]], .binary(c)], namespace: "/n", ackID: 4)
        )
        #expect(
            encoded.text
                == #"63-/n,4[{"x":{"_placeholder":true,"num":0},"y":[{"_placeholder":true,"num":1}]},{"_placeholder":true,"num":2}]"#
        )
        #expect(encoded.attachments == [a, b, c])
    }

    static let headers: [(SocketIOPacket, String)] = [
        (SocketIOPacket(type: .binaryEvent, data: ["a"]), #"50-["a"]"#),
        (SocketIOPacket(type: .binaryAck, ackID: 1, data: []), "60-1[]"),
        (SocketIOPacket(type: .event, namespace: "", data: ["a"]), #"2["a"]"#),
        (.event("a", ackID: 0), #"20["a"]"#),
        (.event("a", ackID: UInt64.max), #"218446744073709551615["a"]"#),
        (.ack([], ackID: 7), "37[]"),
        (.disconnect(namespace: "/ünïcode"), "1/ünïcode,"),
        (.event("é\n", [1.5, .null, ["k": false]]), #"2["é\n",1.5,null,{"k":false}]"#),
        (.connectError(namespace: "/random", message: "Invalid namespace"), #"4/random,{"message":"Invalid namespace"}"#),
        (.connectError(message: "m", data: ["retry": true]), #"4{"message":"m","data":{"retry":true}}"#),
        (SocketIOPacket(type: .connectError, data: "Unable to connect"), #"4"Unable to connect""#),
    ]

    @Test("headers: binary type without binaries, empty namespace, ack ids, payload escaping", arguments: headers)
    func headerForms(packet: SocketIOPacket, expected: String) {
        let encoder = SocketIOPacketEncoder()
        #expect(encoder.encode(packet) == SocketIOEncodedPacket(text: expected))
    }

    @Test("binary outside EVENT/ACK is not an attachment: written as Node's Buffer JSON")
    func binaryInConnect() {
        let encoder = SocketIOPacketEncoder()
        let encoded = encoder.encode(.connect(data: ["key": .binary(ByteBuffer(bytes: [7]))]))
        #expect(encoded == SocketIOEncodedPacket(text: #"0{"key":{"type":"Buffer","data":[7]}}"#))
    }

    @Test("encode(_:into:) appends the same text after the transport's prefix")
    func encodeIntoBuffer() {
        let encoder = SocketIOPacketEncoder()
        let blob = ByteBuffer(bytes: [1, 2, 3])
        for packet in [SocketIOPacket.event("message", [.binary(blob)]), .event("a", ["é", 1.5], namespace: "/n", ackID: 9)] {
            var frame = ByteBuffer(string: "4")
            let attachments = encoder.encode(packet, into: &frame)
            let encoded = encoder.encode(packet)
            #expect(frame == ByteBuffer(string: "4" + encoded.text))
            #expect(attachments == encoded.attachments)
        }
    }

    static let protocolV4: [(SocketIOPacket, String)] = [
        // protocol.md 4.2.9 item 2: v4 ERROR carries a string.
        (.connectError(namespace: "/admin", message: "Not authorized", data: ["code": 1]), #"4/admin,"Not authorized""#),
        (SocketIOPacket(type: .connectError, data: "plain"), #"4"plain""#),
        (SocketIOPacket(type: .connectError, data: ["no": "message"]), #"4{"no":"message"}"#),
        // protocol.md 4.2.9 item 3: auth as a query on the CONNECT namespace.
        (.connect(namespace: "/admin", data: ["token": "a b&c=d/é", "n": 1, "t": true]),
         "0/admin?token=a%20b%26c%3Dd%2F%C3%A9&n=1&t=true,"),
        (.connect(namespace: "/admin", data: ["k": ["1", "2"], "z": .null, "o": [:]]), "0/admin?k=1&k=2&z=&o=,"),
        (.connect(namespace: "/admin", data: ["safe": "AZaz09-_.!~*'()"]), "0/admin?safe=AZaz09-_.!~*'(),"),
        (.connect(namespace: "/admin"), "0/admin,"),
        (.connect(namespace: "/admin", data: [:]), "0/admin,"),
        (.connect(), "0"),
        (.connect(data: ["token": "x"]), "0/?token=x,"),
        (.event("a", namespace: "/admin", ackID: 3), #"2/admin,3["a"]"#),
    ]

    @Test("protocol v4: string ERROR payload, CONNECT auth as namespace query", arguments: protocolV4)
    func version4(packet: SocketIOPacket, expected: String) {
        let encoder = SocketIOPacketEncoder(protocolVersion: .v4)
        #expect(encoder.protocolVersion == .v4)
        #expect(encoder.encode(packet).text == expected)
    }
}
