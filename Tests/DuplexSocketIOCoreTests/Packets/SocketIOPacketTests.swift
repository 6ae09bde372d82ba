import DuplexSocketIOCore
import NIOCore
import Testing

@Suite("SocketIOPacket and SocketIOPacketType (protocol.md 4.2.2)")
struct SocketIOPacketTests {
    static let types: [(SocketIOPacketType, UInt8, String, Bool)] = [
        (.connect, 0, "CONNECT", false),
        (.disconnect, 1, "DISCONNECT", false),
        (.event, 2, "EVENT", false),
        (.ack, 3, "ACK", false),
        (.connectError, 4, "CONNECT_ERROR", false),
        (.binaryEvent, 5, "BINARY_EVENT", true),
        (.binaryAck, 6, "BINARY_ACK", true),
    ]

    @Test("4.2.2: type digits and names", arguments: types)
    func typeDigits(type: SocketIOPacketType, digit: UInt8, name: String, isBinary: Bool) {
        #expect(type.rawValue == digit)
        #expect(type.asciiDigit == 0x30 + digit)
        #expect(SocketIOPacketType(asciiDigit: 0x30 + digit) == type)
        #expect(type.description == name)
        #expect(type.isBinary == isBinary)
    }

    @Test("bytes outside 0-6 are not packet types")
    func invalidDigits() {
        #expect(SocketIOPacketType(asciiDigit: UInt8(ascii: "7")) == nil)
        #expect(SocketIOPacketType(asciiDigit: UInt8(ascii: "/")) == nil)
        #expect(SocketIOPacketType(asciiDigit: 0) == nil)
        #expect(SocketIOPacketType.allCases.count == 7)
    }

    @Test("convenience constructors build the 4.2.2 payload shapes")
    func constructors() {
        let event = SocketIOPacket.event("chat", ["hi", 1], namespace: "/n", ackID: 3)
        #expect(event.type == .event)
        #expect(event.data == ["chat", "hi", 1])
        #expect(event.eventName == "chat")
        #expect(event.arguments == ["hi", 1])
        #expect(event.attachmentCount == 0)
        let ack = SocketIOPacket.ack(["ok"], ackID: 3)
        #expect(ack.arguments == ["ok"])
        #expect(ack.eventName == nil)
        #expect(SocketIOPacket.connectError(message: "m").data == ["message": "m"])
        #expect(SocketIOPacket.connectError(message: "m", data: 1).data == ["message": "m", "data": 1])
        #expect(SocketIOPacket.connect().arguments == [])
        #expect(SocketIOPacket(type: .event, data: [7]).eventName == nil)
        let binary = SocketIOPacket.event("b", [.binary(ByteBuffer(bytes: [1])), [.binary(ByteBuffer())]])
        #expect(binary.attachmentCount == 2)
        #expect(SocketIOPacket(type: .binaryAck, data: [1]).arguments == [1])
        #expect(SocketIOPacket(type: .binaryEvent, data: ["n", 1]).eventName == "n")
    }

    @Test("4.2.3: reserved event names")
    func reservedNames() {
        for name in ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"] {
            #expect(SocketIOPacket.isReservedEventName(name))
        }
        for name in ["connection", "Connect", "message", "", "disconnect "] {
            #expect(!SocketIOPacket.isReservedEventName(name))
        }
    }

    @Test("namespace validity: starts with / and has no comma")
    func namespaces() {
        #expect(SocketIOPacket.isValidNamespace("/"))
        #expect(SocketIOPacket.isValidNamespace("/admin"))
        #expect(!SocketIOPacket.isValidNamespace(""))
        #expect(!SocketIOPacket.isValidNamespace("admin"))
        #expect(!SocketIOPacket.isValidNamespace("/a,b"))
    }

    @Test("description names the packet and elides long payloads")
    func description() {
        let short = SocketIOPacket.event("chat", ackID: 1)
        #expect(short.description == #"EVENT / id=1 ["chat"]"#)
        let long = SocketIOPacket.event(String(repeating: "x", count: 100), [.binary(ByteBuffer(bytes: [1]))], namespace: "/n")
        #expect(long.description.hasPrefix("EVENT /n +1 attachments [\"xxx"))
        #expect(long.description.hasSuffix("… [133 bytes]"))
        #expect(SocketIOPacket.disconnect().description == "DISCONNECT /")
    }

    @Test("protocol versions")
    func versions() {
        #expect(SocketIOProtocolVersion.v4.rawValue == 4)
        #expect(SocketIOProtocolVersion.v5.description == "v5")
        #expect(SocketIOProtocolVersion(rawValue: 5) == .v5)
    }
}
