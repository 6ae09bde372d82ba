import DuplexEngineIOCore
import NIOCore
import Testing

@Suite("protocol.md 4.1.5 WebSocket transport: one packet per message")
struct EngineIOPacketWebSocketTests {
    static let v4Vectors: [(EngineIOWebSocketFrame, EngineIOPacket)] = [
        (.text("4hello"), .message("hello")),
        (.text("4"), .message("")),
        (.text("2"), .ping),
        (.text("3"), .pong),
        (.text("2probe"), .probePing),
        (.text("3probe"), .probePong),
        (.text("1"), .close),
        (.text("5"), .upgrade),
        (.text("6"), .noop),
        (.text("0{\"sid\":\"x\"}"), EngineIOPacket(.open, .text("{\"sid\":\"x\"}"))),
        (.text("4héllo €𝄞"), .message("héllo €𝄞")),
        (.binary(ByteBuffer(bytes: [1, 2, 3, 4])), .message(ByteBuffer(bytes: [1, 2, 3, 4]))),
        (.binary(ByteBuffer()), .message(ByteBuffer())),
    ]

    @Test("4.1.5 v4 text and binary messages decode and encode", arguments: v4Vectors)
    func v4RoundTrip(_ vector: (EngineIOWebSocketFrame, EngineIOPacket)) throws {
        let (frame, packet) = vector
        #expect(try EngineIOPacket(webSocketFrame: frame) == packet)
        #expect(packet.webSocketFrame() == frame)
    }

    @Test("4.1.5 a combining mark after the type digit stays in the data")
    func combiningMark() throws {
        #expect(try EngineIOPacket(webSocketFrame: .text("4\u{301}x")) == .message("\u{301}x"))
    }

    @Test("4.1.5 (ref impl) a text message `b<base64>` is a binary message")
    func forceBase64() throws {
        #expect(try EngineIOPacket(webSocketFrame: .text("bAQIDBA==")) == .message(ByteBuffer(bytes: [1, 2, 3, 4])))
        #expect(try EngineIOPacket(webSocketFrame: .text("b")) == .message(ByteBuffer()))
    }

    @Test("4.1.9 v3 binary messages carry a type byte; text may be `b4<base64>`")
    func v3() throws {
        let frame = EngineIOWebSocketFrame.binary(ByteBuffer(bytes: [4, 1, 2, 3]))
        #expect(
            try EngineIOPacket(webSocketFrame: frame, protocolVersion: .v3) == .message(ByteBuffer(bytes: [1, 2, 3]))
        )
        #expect(EngineIOPacket.message(ByteBuffer(bytes: [1, 2, 3])).webSocketFrame(protocolVersion: .v3) == frame)
        #expect(
            try EngineIOPacket(webSocketFrame: .text("b4AQID"), protocolVersion: .v3)
                == .message(ByteBuffer(bytes: [1, 2, 3]))
        )
        #expect(try EngineIOPacket(webSocketFrame: .text("4hi"), protocolVersion: .v3) == .message("hi"))
        #expect(EngineIOPacket.ping.webSocketFrame(protocolVersion: .v3) == .text("2"))
    }

    static let malformed: [(EngineIOWebSocketFrame, EngineIOProtocolVersion)] = [
        (.text(""), .v4), (.text("7"), .v4), (.text("x"), .v4), (.text("/"), .v4), (.text("b!!!!"), .v4),
        (.text("bA"), .v4), (.text(""), .v3), (.text("b"), .v3), (.text("bx"), .v3),
        (.binary(ByteBuffer()), .v3), (.binary(ByteBuffer(bytes: [7, 1])), .v3),
        (.binary(ByteBuffer(bytes: [0x34])), .v3),
    ]

    @Test("Malformed messages are rejected with invalidPacket", arguments: malformed)
    func malformedMessages(_ vector: (EngineIOWebSocketFrame, EngineIOProtocolVersion)) {
        #expect(throws: EngineIOError.self) {
            try EngineIOPacket(webSocketFrame: vector.0, protocolVersion: vector.1)
        }
        do {
            _ = try EngineIOPacket(webSocketFrame: vector.0, protocolVersion: vector.1)
        } catch {
            #expect(error.code == .invalidPacket)
        }
    }

    @Test("4.1.2 packet type digits")
    func packetTypes() {
        for type in EngineIOPacketType.allCases {
            #expect(EngineIOPacketType(asciiDigit: type.asciiDigit) == type)
            #expect(type.asciiDigit == UInt8(ascii: "0") + type.rawValue)
        }
        #expect(EngineIOPacketType(asciiDigit: UInt8(ascii: "7")) == nil)
        #expect(EngineIOPacketType(asciiDigit: 0) == nil)
        #expect(EngineIOPacket.probePing.isProbePing)
        #expect(!EngineIOPacket.ping.isProbePing)
        #expect(EngineIOPacket.probePong.isProbePong)
        #expect(EngineIOPacket.message("hi").description == "message 'hi'")
        #expect(EngineIOPacket.ping.description == "ping")
        #expect(EngineIOPacketData.binary(ByteBuffer(bytes: [1])).byteCount == 1)
        #expect(EngineIOPacketData.text(String(repeating: "a", count: 40)).description.contains("[40 bytes]"))
    }
}
