import NIOCore
import Testing

@testable import DuplexWebSocketCore

private func serialize(
    _ opcode: Opcode,
    _ payload: [UInt8],
    fin: Bool = true,
    rsv1: Bool = false,
    maskKey: UInt32? = nil
) -> (header: [UInt8], payload: [UInt8]?) {
    let (header, body) = FrameSerializer.serialize(
        opcode: opcode,
        fin: fin,
        rsv1: rsv1,
        payload: ByteBuffer(bytes: payload),
        maskKey: maskKey,
        allocator: ByteBufferAllocator()
    )
    return (header.bytes, body?.bytes)
}

private func keyBytes(_ key: UInt32) -> [UInt8] {
    [UInt8(key >> 24), UInt8((key >> 16) & 0xFF), UInt8((key >> 8) & 0xFF), UInt8(key & 0xFF)]
}

@Suite("RFC 6455 §5.2: base framing protocol (serializing)")
struct FrameSerializerTests {
    @Test(
        "§5.2: \"the minimal number of bytes MUST be used to encode the length\"",
        arguments: [0, 1, 125, 126, 127, 1024, 1025, 65535, 65536, 100_000],
        [nil, 0x37FA_213D] as [UInt32?]
    )
    func lengthForms(length: Int, maskKey: UInt32?) {
        var random = SeededRandom(seed: UInt64(length))
        let payload = random.bytes(length)
        let (header, body) = serialize(.binary, payload, maskKey: maskKey)
        let expected = WireFrame.bytes(opcode: 0x2, payload: payload, maskKey: maskKey.map(keyBytes))
        #expect(header + (body ?? []) == expected)
        let headerSize = FrameSerializer.headerSize(payloadLength: length, masked: maskKey != nil)
        #expect(expected.count == headerSize + length)
        // Small payloads are coalesced behind the header; large ones are a separate buffer.
        if length <= FrameSerializer.coalescingLimit {
            #expect(body == nil)
        } else {
            #expect(header.count == headerSize)
        }
    }

    @Test(
        "§5.2: header sizes",
        arguments: [
            (0, false, 2), (125, false, 2), (126, false, 4), (65535, false, 4), (65536, false, 10),
            (0, true, 6), (125, true, 6), (126, true, 8), (65535, true, 8), (65536, true, 14), (Int(UInt32.max), true, 14),
        ]
    )
    func headerSizes(length: Int, masked: Bool, size: Int) {
        #expect(FrameSerializer.headerSize(payloadLength: length, masked: masked) == size)
    }

    @Test(
        "§5.2: FIN, RSV1 and the opcode in the first byte",
        arguments: [true, false],
        [true, false]
    )
    func firstByte(fin: Bool, rsv1: Bool) {
        for opcode in [Opcode.continuation, .text, .binary, .close, .ping, .pong] {
            let (header, _) = serialize(opcode, [1, 2, 3], fin: fin, rsv1: rsv1)
            #expect(header[0] == (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode.rawValue)
        }
    }

    @Test("§5.3: masking does not modify the caller's payload buffer", arguments: [10, 5000])
    func callerPayloadUntouched(length: Int) {
        let original = [UInt8](repeating: 0x55, count: length)
        let payload = ByteBuffer(bytes: original)
        let (header, body) = FrameSerializer.serialize(
            opcode: .binary, payload: payload, maskKey: 0xDEAD_BEEF, allocator: ByteBufferAllocator()
        )
        #expect(payload.bytes == original)
        let wire = header.bytes + (body?.bytes ?? [])
        #expect(wire == WireFrame.bytes(opcode: 0x2, payload: original, maskKey: keyBytes(0xDEAD_BEEF)))
    }

    @Test("§5.2: a payload that starts after the buffer's reader index")
    func payloadSlice() {
        var payload = ByteBuffer(bytes: [9, 9, 1, 2, 3])
        payload.moveReaderIndex(forwardBy: 2)
        let (header, body) = FrameSerializer.serialize(opcode: .text, payload: payload, maskKey: nil, allocator: ByteBufferAllocator())
        #expect(body == nil)
        #expect(header.bytes == [0x81, 0x03, 1, 2, 3])
    }
}

@Suite("RFC 6455 §5.7: examples")
struct FrameExamplesTests {
    static let hello = Array("Hello".utf8)
    static let maskedHello: [UInt8] = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
    static let unmaskedHello: [UInt8] = [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F]

    @Test("§5.7: a single-frame unmasked text message")
    func unmaskedText() throws {
        #expect(serialize(.text, Self.hello).header == Self.unmaskedHello)
        var buffer = ByteBuffer(bytes: Self.unmaskedHello)
        let frame = try FrameParser(role: .client, maxFrameSize: 100).nextFrame(from: &buffer)
        #expect(frame == Frame(opcode: .text, payload: ByteBuffer(bytes: Self.hello)))
    }

    @Test("§5.7: a single-frame masked text message")
    func maskedText() throws {
        #expect(serialize(.text, Self.hello, maskKey: 0x37FA_213D).header == Self.maskedHello)
        var buffer = ByteBuffer(bytes: Self.maskedHello)
        let frame = try FrameParser(role: .server, maxFrameSize: 100).nextFrame(from: &buffer)
        #expect(frame == Frame(opcode: .text, payload: ByteBuffer(bytes: Self.hello)))
    }

    @Test("§5.7: a fragmented unmasked text message, \"Hel\" then \"lo\"")
    func fragmentedText() throws {
        let first: [UInt8] = [0x01, 0x03, 0x48, 0x65, 0x6C]
        let second: [UInt8] = [0x80, 0x02, 0x6C, 0x6F]
        #expect(serialize(.text, Array("Hel".utf8), fin: false).header == first)
        #expect(serialize(.continuation, Array("lo".utf8)).header == second)
        var buffer = ByteBuffer(bytes: first + second)
        let parser = FrameParser(role: .client, maxFrameSize: 100)
        #expect(try parser.nextFrame(from: &buffer) == Frame(fin: false, opcode: .text, payload: ByteBuffer(string: "Hel")))
        #expect(try parser.nextFrame(from: &buffer) == Frame(opcode: .continuation, payload: ByteBuffer(string: "lo")))

        // And as a message: the client machine reassembles it.
        var client = MachineHarness(.client)
        #expect(client.receive(first + second) == [.deliverText("Hello")])
    }

    @Test("§5.7: unmasked ping \"Hello\" and the masked pong that answers it")
    func pingAndPong() throws {
        let ping: [UInt8] = [0x89, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F]
        let pong: [UInt8] = [0x8A, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
        #expect(serialize(.ping, Self.hello).header == ping)
        #expect(serialize(.pong, Self.hello, maskKey: 0x37FA_213D).header == pong)
        var buffer = ByteBuffer(bytes: pong)
        #expect(
            try FrameParser(role: .server, maxFrameSize: 125).nextFrame(from: &buffer)
                == Frame(opcode: .pong, payload: ByteBuffer(bytes: Self.hello)))

        // A client that receives the ping answers with a masked pong carrying "Hello".
        var client = MachineHarness(.client)
        client.machine.bytesReceived(ByteBuffer(bytes: ping), now: at(0))
        let actions = client.actions()
        #expect(actions.count == 1)
        guard case .write(let written) = actions.first else {
            Issue.record("expected a write, got \(actions)")
            return
        }
        let bytes = written.bytes
        #expect(bytes.count == pong.count)
        #expect(bytes.prefix(2) == [0x8A, 0x85])
        #expect(WireFrame.naiveMask(Array(bytes[6...]), key: Array(bytes[2..<6])) == Self.hello)

        // A server answers unmasked.
        var server = MachineHarness(.server)
        server.machine.bytesReceived(
            ByteBuffer(bytes: WireFrame.bytes(opcode: 0x9, payload: Self.hello, maskKey: [1, 2, 3, 4])), now: at(0))
        #expect(server.machine.nextAction() == .write(ByteBuffer(bytes: [0x8A, 0x05] + Self.hello)))
        #expect(server.machine.nextAction() == nil)
    }

    @Test("§5.7: 256 bytes binary message in a single unmasked frame")
    func twoHundredFiftySixBytes() throws {
        let payload = [UInt8](repeating: 0xAA, count: 256)
        #expect(serialize(.binary, payload).header == [0x82, 0x7E, 0x01, 0x00] + payload)
        var buffer = ByteBuffer(bytes: [0x82, 0x7E, 0x01, 0x00] + payload)
        #expect(try FrameParser(role: .client, maxFrameSize: 1000).nextFrame(from: &buffer)?.payload.bytes == payload)
    }

    @Test("§5.7: 64KiB binary message in a single unmasked frame")
    func sixtyFourKibibytes() throws {
        let payload = [UInt8](repeating: 0x42, count: 65536)
        let header: [UInt8] = [0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00]
        let (serializedHeader, body) = serialize(.binary, payload)
        #expect(serializedHeader == header)
        #expect(body == payload)
        var buffer = ByteBuffer(bytes: header + payload)
        #expect(try FrameParser(role: .client, maxFrameSize: 1 << 20).nextFrame(from: &buffer)?.payload.bytes == payload)
    }
}
