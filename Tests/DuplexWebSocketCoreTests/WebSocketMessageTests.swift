import NIOCore
import Testing

@testable import DuplexWebSocketCore

@Suite("RFC 6455 §5.6: messages and opcodes")
struct WebSocketMessageTests {
    @Test("text and binary messages")
    func messages() {
        let text = WebSocketMessage.text("κόσμε")
        #expect(text.kind == .text)
        #expect(text.opcode == .text)
        #expect(text.text == "κόσμε")
        #expect(text.bytes == Array("κόσμε".utf8))
        #expect(text.description == "text message, \(Array("κόσμε".utf8).count) bytes")

        let binary = WebSocketMessage.binary([1, 2, 3])
        #expect(binary.kind == .binary)
        #expect(binary.opcode == .binary)
        #expect(binary.text == nil)
        #expect(binary == .binary(ByteBuffer(bytes: [1, 2, 3])))
        #expect(binary.description == "binary message, 3 bytes")
        #expect(binary != WebSocketMessage(kind: .text, data: ByteBuffer(bytes: [1, 2, 3])))
    }

    @Test("§5.2: opcodes 0x0-0xF: six defined, control frames have the high bit", arguments: 0...15)
    func opcodes(raw: Int) {
        let opcode = Opcode(rawValue: UInt8(raw))
        #expect(opcode.isControl == (raw >= 8))
        #expect(opcode.isKnown == [0, 1, 2, 8, 9, 10].contains(raw))
        #expect(
            opcode.description
                == (opcode.isKnown
                    ? ["CONT", "TEXT", "BINARY", "CLOSE", "PING", "PONG"][[0, 1, 2, 8, 9, 10].firstIndex(of: raw) ?? 0]
                    : "RESERVED(\(raw))"))
        // Only the low 4 bits are an opcode.
        #expect(Opcode(rawValue: UInt8(raw) | 0xF0) == opcode)
    }

    @Test("frame descriptions do not dump payloads")
    func frameDescription() {
        let frame = Frame(fin: false, rsv1: true, opcode: .text, payload: ByteBuffer(string: "secret"))
        #expect(frame.description == "TEXT 6 bytes [continued] [rsv1]")
        #expect(Frame(opcode: .ping, payload: ByteBuffer()).description == "PING 0 bytes")
    }
}
