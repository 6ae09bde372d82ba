import NIOCore
import Testing

@testable import DuplexWebSocketCore

private let bothRoles: [Role] = [.client, .server]

/// `bytes` cut into consecutive chunks of `size` bytes (the last one may be shorter).
private func chunks(_ bytes: [UInt8], of size: Int) -> [[UInt8]] {
    stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<min($0 + size, bytes.count)]) }
}

/// The first `count` bytes of a text frame announcing `length` payload bytes that start with
/// `prefix`, as `sender` puts it on the wire: only the header and the payload's beginning are sent.
private func frameStart(from sender: Role, opcode: Opcode = .text, fin: Bool = true, length: Int, prefix: [UInt8]) -> [UInt8] {
    let whole = WireFrame.bytes(
        from: sender,
        fin: fin,
        opcode: opcode,
        payload: prefix + [UInt8](repeating: 0x61, count: length - prefix.count)
    )
    let headerSize = whole.count - length
    return Array(whole.prefix(headerSize + prefix.count))
}

/// RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8 but finds that the byte
/// stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the WebSocket
/// Connection_". Text is validated as its bytes arrive, inside a frame that is still incomplete,
/// so a large frame with a bad beginning fails at once (Autobahn 6.4.3-4, strict).
@Suite("RFC 6455 §8.1: UTF-8 fails fast inside a frame that arrives in pieces")
struct UTF8FailFastTests {
    static let invalidPrefix: [UInt8] = Array("abc".utf8) + [0xC0, 0x80] + Array("defgh".utf8)  // 10 bytes, C0 is never valid

    // MARK: - FrameParser

    @Test("§8.1: the parser fails a 1 MiB text frame at its invalid 4th byte, before the rest arrives", arguments: bothRoles)
    func parserFailsBeforeTheRest(receiver: Role) throws {
        var parser = FrameParser(role: receiver, maxFrameSize: 1 << 21)
        var validator = UTF8Validator()
        let start = frameStart(from: receiver.peer, length: 1 << 20, prefix: Self.invalidPrefix)
        let headerSize = start.count - Self.invalidPrefix.count
        var buffer = ByteBuffer(bytes: start.prefix(headerSize + 3))  // the header and "abc"
        #expect(try parser.nextFrame(from: &buffer, textOpcode: .text, validator: &validator) == nil)
        #expect(buffer.readableBytes == 0, "the valid beginning was taken in, unmasked and validated")
        buffer.writeBytes(start[(headerSize + 3)...])
        let error = #expect(throws: WebSocketError.self) {
            try parser.nextFrame(from: &buffer, textOpcode: .text, validator: &validator)
        }
        #expect(error?.code == .invalidUTF8)
    }

    @Test(
        "§8.1: a text frame fed in chunks of every size parses to its payload, validated once",
        arguments: bothRoles,
        [1, 2, 3, 5, 7, 64, 1000]
    )
    func parserStreamsValidText(receiver: Role, chunkSize: Int) throws {
        // 2- and 4-byte code points, so that chunk boundaries fall inside them.
        let text = String(repeating: "é😀a", count: 50)
        let wire = WireFrame.bytes(from: receiver.peer, opcode: .text, payload: Array(text.utf8))
        var parser = FrameParser(role: receiver, maxFrameSize: 1 << 20)
        var validator = UTF8Validator()
        var buffer = ByteBuffer()
        var frames: [Frame] = []
        for chunk in chunks(wire, of: chunkSize) {
            buffer.writeBytes(chunk)
            if let frame = try parser.nextFrame(from: &buffer, textOpcode: .text, validator: &validator) {
                frames.append(frame)
            }
        }
        #expect(frames == [Frame(opcode: .text, payload: ByteBuffer(string: text))])
        #expect(validator.isComplete)
        #expect(buffer.readableBytes == 0)
    }

    @Test(
        "§8.1: only the frames named text are validated: binary, compressed (RSV1) and other opcodes are not",
        arguments: [
            (Opcode.binary, UInt8(0), Opcode?.some(.text)), (.text, 0x40, .text), (.continuation, 0, .text),
            (.text, 0, .continuation), (.text, 0, nil),
        ] as [(Opcode, UInt8, Opcode?)],
        [Role.server, .client]
    )
    func parserDoesNotValidateOtherFrames(frame kind: (opcode: Opcode, rsv: UInt8, textOpcode: Opcode?), role: Role) throws {
        let (opcode, rsv, textOpcode) = kind
        var parser = FrameParser(role: role, maxFrameSize: 1000, allowsRSV1: true)
        var validator = UTF8Validator()
        let payload: [UInt8] = [0xC0, 0x80, 0xFF, 0xFE]
        let wire = WireFrame.bytes(from: role == .server ? .client : .server, rsv: rsv, opcode: opcode, payload: payload)
        var buffer = ByteBuffer(bytes: wire.dropLast())
        #expect(try parser.nextFrame(from: &buffer, textOpcode: textOpcode, validator: &validator) == nil)
        // A masked data frame is taken in and unmasked as it arrives (each byte copied once); an
        // unmasked one waits whole in the buffer.
        #expect(buffer.readableBytes == (role == .server ? 0 : wire.count - 1))
        buffer.writeBytes(wire.suffix(1))
        let frame = try parser.nextFrame(from: &buffer, textOpcode: textOpcode, validator: &validator)
        #expect(frame?.payload.bytes == payload)
        #expect(frame?.opcode == opcode)
        #expect(frame?.rsv1 == (rsv != 0))
        #expect(buffer.readableBytes == 0)
    }

    @Test("a masked binary frame arriving byte by byte is unmasked piece by piece into one payload")
    func maskedBinaryPiecewise() throws {
        var parser = FrameParser(role: .server, maxFrameSize: 100_000)
        var validator = UTF8Validator()
        let payload = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let wire = WireFrame.bytes(from: .client, opcode: .binary, payload: payload)
        var frames: [Frame] = []
        var buffer = ByteBuffer()
        // Uneven pieces: key offsets other than 0 at every piece boundary.
        var offset = 0
        var step = 1
        while offset < wire.count {
            let end = min(wire.count, offset + step)
            buffer.writeBytes(wire[offset..<end])
            offset = end
            step = step * 3 + 1
            while let frame = try parser.nextFrame(from: &buffer, textOpcode: .text, validator: &validator) { frames.append(frame) }
        }
        #expect(frames.count == 1)
        #expect(frames.first?.payload.bytes == payload)
    }

    // MARK: - ConnectionStateMachine

    @Test("§8.1: a 1 MiB text frame with invalid UTF-8 in its first 10 bytes fails with 1007 before the rest", arguments: bothRoles)
    func machineFailsBeforeTheRest(role: Role) {
        var machine = MachineHarness(role, limits: WebSocketLimits(maxFrameSize: 1 << 21, maxMessageSize: 1 << 21))
        let start = frameStart(from: role.peer, length: 1 << 20, prefix: Self.invalidPrefix)
        // The header alone, then the payload's beginning 3 bytes at a time.
        let headerSize = start.count - Self.invalidPrefix.count
        #expect(machine.receive(Array(start.prefix(headerSize))) == [])
        var events: [Event] = []
        for chunk in chunks(Array(start[headerSize...]), of: 3) where events.isEmpty {
            events = machine.receive(chunk)
        }
        #expect(events.ignoringCloseReasons.prefix(2) == [.writeClose(1007), .failed(.invalidUTF8)])
        if role == .server { #expect(events.contains(.closeTransport)) }
    }

    @Test("§8.1: invalid UTF-8 in a large continuation frame fails with 1007 before the rest", arguments: bothRoles)
    func machineFailsInsideAContinuation(role: Role) {
        var machine = MachineHarness(role, limits: WebSocketLimits(maxFrameSize: 1 << 21, maxMessageSize: 1 << 21))
        #expect(machine.receive(.text, Array("Hello, ".utf8), fin: false) == [])
        let start = frameStart(from: role.peer, opcode: .continuation, length: 1 << 20, prefix: Self.invalidPrefix)
        let events = machine.receive(start).ignoringCloseReasons
        #expect(events.prefix(2) == [.writeClose(1007), .failed(.invalidUTF8)])
    }

    @Test(
        "§8.1: code points split across chunks and across frames are delivered whole",
        arguments: bothRoles,
        [1, 2, 3, 4, 5, 13, 200]
    )
    func machineAcceptsSplitCodePoints(role: Role, chunkSize: Int) {
        var machine = MachineHarness(role)
        let text = String(repeating: "aé€😀", count: 40)
        let bytes = Array(text.utf8)
        // Fragment boundaries inside "é" (byte 2) and inside "😀" (byte 300 of 400).
        var wire = WireFrame.bytes(from: role.peer, fin: false, opcode: .text, payload: Array(bytes[..<2]))
        wire += WireFrame.bytes(from: role.peer, fin: false, opcode: .continuation, payload: Array(bytes[2..<300]))
        wire += WireFrame.bytes(from: role.peer, opcode: .ping, payload: [1])
        wire += WireFrame.bytes(from: role.peer, opcode: .continuation, payload: Array(bytes[300...]))
        // And a single-frame message, so the validator starts afresh.
        wire += WireFrame.bytes(from: role.peer, opcode: .text, payload: bytes)
        var events: [Event] = []
        for chunk in chunks(wire, of: chunkSize) { events += machine.receive(chunk) }
        #expect(events == [.write(.pong, [1]), .deliverText(text), .deliverText(text)])
    }

    @Test(
        "§8.1: a message whose final frame ends inside a code point fails with 1007 at its end, not before",
        arguments: bothRoles,
        [false, true]
    )
    func machineFailsIncompleteEnd(role: Role, fragmented: Bool) {
        var machine = MachineHarness(role)
        let payload = Array(String(repeating: "x", count: 200).utf8) + [0xE2, 0x82]  // "€" without its last byte
        var wire: [UInt8] = []
        if fragmented { wire += WireFrame.bytes(from: role.peer, fin: false, opcode: .text, payload: Array("ab".utf8)) }
        wire += WireFrame.bytes(from: role.peer, opcode: fragmented ? .continuation : .text, payload: payload)
        #expect(machine.receive(Array(wire.dropLast())) == [], "a truncated code point may still be completed")
        let events = machine.receive(Array(wire.suffix(1))).ignoringCloseReasons
        #expect(events.prefix(2) == [.writeClose(1007), .failed(.invalidUTF8)])
    }

    @Test("§8.1: with validation off, invalid text arriving in chunks is delivered untouched", arguments: bothRoles)
    func machineValidationOff(role: Role) {
        var machine = MachineHarness(role, validatesUTF8: false)
        let payload = Self.invalidPrefix + [UInt8](repeating: 0xFF, count: 300)
        let wire = WireFrame.bytes(from: role.peer, opcode: .text, payload: payload)
        var events: [Event] = []
        for chunk in chunks(wire, of: 7) { events += machine.receive(chunk) }
        #expect(events == [.deliver(WebSocketMessage(kind: .text, data: ByteBuffer(bytes: payload)))])
    }

    @Test("§5.6: binary data is not validated while it arrives", arguments: bothRoles)
    func machineBinaryIsNotText(role: Role) {
        var machine = MachineHarness(role)
        let payload = Self.invalidPrefix + [UInt8](repeating: 0xFF, count: 300)
        let wire = WireFrame.bytes(from: role.peer, opcode: .binary, payload: payload)
        var events: [Event] = []
        for chunk in chunks(wire, of: 7) { events += machine.receive(chunk) }
        #expect(events == [.deliverBinary(payload)])
    }

    // MARK: - Compressed text (RFC 7692)

    @Test("§8.1 with RFC 7692: inflated text is validated as zlib produces it; inflating stops at the bad bytes")
    func inflatedTextStopsAtInvalidBytes() throws {
        let sender = try PerMessageDeflate(parameters: PerMessageDeflateParameters(), isClient: true, configuration: .default)
        let receiver = try PerMessageDeflate(parameters: PerMessageDeflateParameters(), isClient: false, configuration: .default)
        // 4 MiB of text whose first bytes are invalid; compressed, it is a few KiB.
        let message = ByteBuffer(bytes: Self.invalidPrefix + [UInt8](repeating: 0x61, count: 4 << 20))
        let compressed = sender.compress(message, allocator: ByteBufferAllocator())
        var output = ByteBuffer()
        var validator: UTF8Validator? = UTF8Validator()
        let error = #expect(throws: WebSocketError.self) {
            try receiver.decompressFragment(compressed, isFinal: true, into: &output, maxMessageSize: 8 << 20, validator: &validator)
        }
        #expect(error?.code == .invalidUTF8)
        #expect(output.readableBytes < 1 << 20, "inflation went on after the invalid bytes")
        // The inflater was reset: the next message inflates.
        var next = ByteBuffer()
        var fresh: UTF8Validator? = UTF8Validator()
        try receiver.decompressFragment(
            sender.compress(ByteBuffer(string: "ok"), allocator: ByteBufferAllocator()),
            isFinal: true,
            into: &next,
            maxMessageSize: 100,
            validator: &fresh
        )
        #expect(next == ByteBuffer(string: "ok"))
    }

    @Test("§8.1 with RFC 7692: a compressed text message with invalid UTF-8 fails with 1007", arguments: bothRoles, [false, true])
    func compressedInvalidText(role: Role, fragmented: Bool) throws {
        let deflate = try PerMessageDeflate(parameters: PerMessageDeflateParameters(), isClient: role == .client, configuration: .default)
        let peer = try PerMessageDeflate(parameters: PerMessageDeflateParameters(), isClient: role == .server, configuration: .default)
        var machine = MachineHarness(role, deflate: deflate)
        var events: [Event] = []
        if fragmented {
            let first = peer.compressFragment(ByteBuffer(string: "valid "), isFinal: false, allocator: ByteBufferAllocator())
            events += machine.receive(.text, first.bytes, fin: false, rsv: 0x40)
            let second = peer.compressFragment(ByteBuffer(bytes: Self.invalidPrefix), isFinal: false, allocator: ByteBufferAllocator())
            events += machine.receive(.continuation, second.bytes, fin: false)
        } else {
            let compressed = peer.compress(ByteBuffer(bytes: Self.invalidPrefix), allocator: ByteBufferAllocator())
            events += machine.receive(.text, compressed.bytes, rsv: 0x40)
        }
        #expect(events.ignoringCloseReasons.prefix(2) == [.writeClose(1007), .failed(.invalidUTF8)])
    }
}
