import NIOCore
import Testing

@testable import DuplexWebSocketCore

/// Parses `bytes` once; returns the frame (nil if more bytes are needed) and the bytes left unread.
private func parse(
    _ bytes: [UInt8],
    role: Role,
    maxFrameSize: Int = 1 << 20,
    allowsRSV1: Bool = false
) throws(WebSocketError) -> (frame: Frame?, unread: Int) {
    var buffer = ByteBuffer(bytes: bytes)
    let parser = FrameParser(role: role, maxFrameSize: maxFrameSize, allowsRSV1: allowsRSV1)
    let frame = try parser.nextFrame(from: &buffer)
    return (frame, buffer.readableBytes)
}

/// The code of the error parsing `bytes` throws, or nil if it does not throw.
private func parseErrorCode(
    _ bytes: [UInt8],
    role: Role,
    maxFrameSize: Int = 1 << 20,
    allowsRSV1: Bool = false
) -> WebSocketError.Code? {
    do {
        _ = try parse(bytes, role: role, maxFrameSize: maxFrameSize, allowsRSV1: allowsRSV1)
        return nil
    } catch {
        return error.code
    }
}

private let bothRoles: [Role] = [.client, .server]

@Suite("RFC 6455 §5.2: base framing protocol (parsing)")
struct FrameParserTests {
    // MARK: - Payload length

    @Test(
        "§5.2: every payload length form round the 7-bit, 16-bit and 64-bit boundaries",
        arguments: bothRoles,
        [0, 1, 124, 125, 126, 127, 128, 1000, 65534, 65535, 65536, 65537, 100_000]
    )
    func payloadLengthForms(receiver: Role, length: Int) throws {
        var random = SeededRandom(seed: UInt64(length))
        let payload = random.bytes(length)
        let bytes = WireFrame.bytes(from: receiver.peer, opcode: .binary, payload: payload)
        let expectedHeader = (length <= 125 ? 2 : length <= 0xFFFF ? 4 : 10) + (receiver == .server ? 4 : 0)
        #expect(bytes.count == expectedHeader + length)
        let (frame, unread) = try parse(bytes, role: receiver)
        #expect(unread == 0)
        #expect(frame?.payload.bytes == payload)
        #expect(frame?.opcode == .binary)
        #expect(frame?.fin == true)
    }

    @Test(
        "§5.2: the length bytes as the RFC spells them (7 bits, 126 + 16 bits, 127 + 64 bits)",
        arguments: [
            (125, [0x7D] as [UInt8]),
            (126, [0x7E, 0x00, 0x7E]),
            (65535, [0x7E, 0xFF, 0xFF]),
            (65536, [0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]),
        ]
    )
    func lengthEncodings(length: Int, lengthBytes: [UInt8]) throws {
        let header: [UInt8] = [0x82] + lengthBytes
        let (frame, unread) = try parse(header + [UInt8](repeating: 0xAB, count: length), role: .client)
        #expect(unread == 0)
        #expect(frame?.payload.readableBytes == length)
    }

    @Test(
        "§5.2: \"the most significant bit MUST be 0\" in a 64-bit length",
        arguments: bothRoles,
        [0x8000_0000_0000_0000, 0x8000_0000_0000_0005, 0xFFFF_FFFF_FFFF_FFFF] as [UInt64]
    )
    func sixtyFourBitLengthHighBit(receiver: Role, length: UInt64) {
        var bytes: [UInt8] = [0x82, (receiver == .server ? 0x80 : 0) | 127]
        bytes += (0..<8).reversed().map { UInt8(truncatingIfNeeded: length >> (UInt64($0) * 8)) }
        // Rejected from the header alone, before any mask key or payload arrives.
        #expect(parseErrorCode(bytes, role: receiver, maxFrameSize: .max) == .protocolViolation)
    }

    @Test("§5.2: a 64-bit length just under 2^63 waits for its payload, even with no size limit")
    func largestLegalLength() throws {
        let bytes: [UInt8] = [0x82, 127, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3]
        let (frame, unread) = try parse(bytes, role: .client, maxFrameSize: .max)
        #expect(frame == nil)
        #expect(unread == bytes.count)
        let masked: [UInt8] = [0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4, 5]
        let (maskedFrame, maskedUnread) = try parse(masked, role: .server, maxFrameSize: .max)
        #expect(maskedFrame == nil)
        #expect(maskedUnread == masked.count)
    }

    @Test(
        "§10.4: a frame over the frame limit fails with messageTooLarge (1009) from its header alone",
        arguments: [(100, 100, true), (100, 101, false), (200, 65536, false), (70_000, 70_000, true)]
    )
    func frameSizeLimit(limit: Int, length: Int, accepted: Bool) throws {
        for receiver in bothRoles { try checkFrameSizeLimit(receiver: receiver, limit: limit, length: length, accepted: accepted) }
    }

    @Test(
        "RFC 7692: a compressed frame may exceed the frame limit by deflate's worst-case expansion, no more",
        arguments: [1000, 16_384, 1 << 20]
    )
    func compressedFrameSizeLimit(limit: Int) throws {
        // zlib's deflateBound for stored blocks: 5 bytes per 16 KiB block and a few bytes more.
        let bound = FrameParser.compressedBound(limit)
        #expect(bound >= limit + limit / 16_384 * 5 + 13)
        for receiver in bothRoles {
            for (length, accepted) in [(bound, true), (bound + 1, false)] {
                let bytes = WireFrame.bytes(from: receiver.peer, rsv: 0x40, opcode: .binary, payload: [UInt8](repeating: 1, count: length))
                if accepted {
                    let frame = try parse(bytes, role: receiver, maxFrameSize: limit, allowsRSV1: true).frame
                    #expect(frame?.payload.readableBytes == length)
                } else {
                    #expect(parseErrorCode(bytes, role: receiver, maxFrameSize: limit, allowsRSV1: true) == .messageTooLarge)
                }
            }
            // Uncompressed frames keep the exact limit.
            let plain = WireFrame.bytes(from: receiver.peer, opcode: .binary, payload: [UInt8](repeating: 1, count: limit + 1))
            #expect(parseErrorCode(plain, role: receiver, maxFrameSize: limit) == .messageTooLarge)
        }
        #expect(FrameParser.compressedBound(.max) == .max)
    }

    @Test("§5.3: unmasking does not modify the receive buffer (other frames may share its storage)")
    func unmaskingLeavesReceiveBufferIntact() throws {
        let payload: [UInt8] = Array("hello, masked world".utf8)
        let bytes = WireFrame.bytes(from: .client, opcode: .text, payload: payload)
        let received = ByteBuffer(bytes: bytes)
        var buffer = received
        let frame = try #require(try FrameParser(role: .server, maxFrameSize: 100).nextFrame(from: &buffer))
        #expect(Array(buffer: frame.payload) == payload)
        #expect(Array(buffer: received) == bytes)
    }

    private func checkFrameSizeLimit(receiver: Role, limit: Int, length: Int, accepted: Bool) throws {
        let bytes = WireFrame.bytes(from: receiver.peer, opcode: .binary, payload: [UInt8](repeating: 7, count: length))
        let headerSize = bytes.count - length
        if accepted {
            #expect(try parse(bytes, role: receiver, maxFrameSize: limit).frame?.payload.readableBytes == length)
        } else {
            // Only the header (without the mask key) is needed to reject it.
            let lengthOnly = Array(bytes.prefix(headerSize - (receiver == .server ? 4 : 0)))
            #expect(parseErrorCode(lengthOnly, role: receiver, maxFrameSize: limit) == .messageTooLarge)
            #expect(parseErrorCode(bytes, role: receiver, maxFrameSize: limit) == .messageTooLarge)
        }
    }

    // MARK: - RSV bits

    @Test(
        "§5.2: RSV1-3 \"MUST be 0 unless an extension is negotiated\"; RFC 7692 §6 gives RSV1 to data frames",
        arguments: [0x40, 0x20, 0x10, 0x60, 0x50, 0x30, 0x70] as [UInt8],
        [Opcode.continuation, .text, .binary, .close, .ping, .pong]
    )
    func reservedBits(rsv: UInt8, opcode: Opcode) throws {
        for receiver in bothRoles {
            let bytes = WireFrame.bytes(from: receiver.peer, rsv: rsv, opcode: opcode, payload: [])
            // Without a negotiated extension every RSV bit is a protocol error.
            #expect(parseErrorCode(bytes, role: receiver) == .protocolViolation)
            // With permessage-deflate only RSV1 alone, and only on a data frame, is allowed.
            let allowed = rsv == 0x40 && !opcode.isControl
            if allowed {
                let frame = try parse(bytes, role: receiver, allowsRSV1: true).frame
                #expect(frame?.rsv1 == true)
                #expect(frame?.rsv2 == false && frame?.rsv3 == false)
            } else {
                #expect(parseErrorCode(bytes, role: receiver, allowsRSV1: true) == .protocolViolation)
            }
        }
    }

    @Test("§5.2: RSV bits are rejected from the first two bytes, before the payload arrives")
    func reservedBitsFailEarly() {
        #expect(parseErrorCode([0xA1, 0x7D], role: .client) == .protocolViolation)
        #expect(parseErrorCode([0xC1, 0xFE], role: .server) == .protocolViolation)
        #expect(parseErrorCode([0xC9, 0x80], role: .server, allowsRSV1: true) == .protocolViolation)
    }

    // MARK: - Opcodes

    @Test(
        "§5.2: a reserved opcode MUST fail the connection",
        arguments: [0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF] as [UInt8]
    )
    func reservedOpcodes(opcode: UInt8) {
        for receiver in bothRoles {
            for fin in [true, false] {
                for payload in [[], Array("reserved".utf8)] as [[UInt8]] {
                    let key: [UInt8]? = receiver == .server ? [1, 2, 3, 4] : nil
                    let bytes = WireFrame.bytes(fin: fin, opcode: opcode, payload: payload, maskKey: key)
                    #expect(parseErrorCode(bytes, role: receiver) == .protocolViolation)
                    #expect(parseErrorCode(Array(bytes.prefix(2)), role: receiver) == .protocolViolation)
                    #expect(parseErrorCode(bytes, role: receiver, allowsRSV1: true) == .protocolViolation)
                }
            }
        }
    }

    @Test(
        "§5.2: the six defined opcodes parse",
        arguments: [Opcode.continuation, .text, .binary, .close, .ping, .pong]
    )
    func definedOpcodes(opcode: Opcode) throws {
        for receiver in bothRoles {
            let payload: [UInt8] = opcode == .close ? [0x03, 0xE8] : [0x61, 0x62]
            let bytes = WireFrame.bytes(from: receiver.peer, opcode: opcode, payload: payload)
            let frame = try parse(bytes, role: receiver).frame
            #expect(frame == Frame(opcode: opcode, payload: ByteBuffer(bytes: payload)))
        }
    }

    @Test("§5.2: FIN is reported for data frames", arguments: [true, false])
    func finBit(fin: Bool) throws {
        for opcode in [Opcode.text, .binary, .continuation] {
            let frame = try parse(WireFrame.bytes(fin: fin, opcode: opcode.rawValue, payload: [1]), role: .client).frame
            #expect(frame?.fin == fin)
        }
    }

    // MARK: - Masking rule

    @Test("§5.1: a server MUST close the connection upon receiving a frame that is not masked")
    func serverRejectsUnmaskedFrames() {
        for opcode in [Opcode.text, .binary, .continuation, .close, .ping, .pong] {
            let bytes = WireFrame.bytes(opcode: opcode.rawValue, payload: [])
            #expect(parseErrorCode(bytes, role: .server) == .protocolViolation)
        }
        // Detected from the first two bytes.
        #expect(parseErrorCode([0x81, 0x05], role: .server) == .protocolViolation)
    }

    @Test("§5.1: a client MUST close a connection if it detects a masked frame")
    func clientRejectsMaskedFrames() {
        for opcode in [Opcode.text, .binary, .continuation, .close, .ping, .pong] {
            let bytes = WireFrame.bytes(opcode: opcode.rawValue, payload: [], maskKey: [9, 9, 9, 9])
            #expect(parseErrorCode(bytes, role: .client) == .protocolViolation)
        }
        #expect(parseErrorCode([0x81, 0x85], role: .client) == .protocolViolation)
    }

    @Test("§5.3: the parser unmasks with the frame's key", arguments: 0..<20)
    func unmasking(seed: Int) throws {
        var random = SeededRandom(seed: UInt64(seed))
        let payload = random.bytes(Int.random(in: 0...300, using: &random))
        let key = random.bytes(4)
        let bytes = WireFrame.bytes(opcode: 0x2, payload: payload, maskKey: key)
        #expect(try parse(bytes, role: .server).frame?.payload.bytes == payload)
    }

    // MARK: - Control frames

    @Test(
        "§5.5: control frames \"MUST have a payload length of 125 bytes or less\"",
        arguments: [Opcode.close, .ping, .pong],
        [125, 126, 127, 65535, 65536]
    )
    func controlFrameLength(opcode: Opcode, length: Int) throws {
        for receiver in bothRoles {
            var payload = [UInt8](repeating: 0x41, count: length)
            if opcode == .close { payload[0] = 0x03; payload[1] = 0xE8 }
            let bytes = WireFrame.bytes(from: receiver.peer, opcode: opcode, payload: payload)
            if length <= 125 {
                #expect(try parse(bytes, role: receiver).frame?.payload.readableBytes == length)
            } else {
                #expect(parseErrorCode(bytes, role: receiver) == .protocolViolation)
                // The extended length is enough to decide.
                let headerOnly = Array(bytes.prefix(length <= 0xFFFF ? 4 : 10))
                #expect(parseErrorCode(headerOnly, role: receiver) == .protocolViolation)
            }
        }
    }

    @Test("§5.5: control frames \"MUST NOT be fragmented\"", arguments: [Opcode.close, .ping, .pong])
    func fragmentedControlFrames(opcode: Opcode) {
        for receiver in bothRoles {
            let bytes = WireFrame.bytes(from: receiver.peer, fin: false, opcode: opcode, payload: [])
            #expect(parseErrorCode(bytes, role: receiver) == .protocolViolation)
        }
    }

    // MARK: - Incremental parsing

    @Test(
        "§5.2: a frame fed one byte at a time is returned only once complete, nothing consumed before",
        arguments: bothRoles,
        [0, 1, 5, 125, 126, 300, 65536]
    )
    func byteAtATime(receiver: Role, length: Int) throws {
        var random = SeededRandom(seed: UInt64(length) &+ 11)
        let payload = random.bytes(length)
        let bytes = WireFrame.bytes(from: receiver.peer, opcode: .binary, payload: payload)
        let parser = FrameParser(role: receiver, maxFrameSize: 1 << 20)
        var buffer = ByteBuffer()
        var frames: [Frame] = []
        var consumedEarly = false
        for (index, byte) in bytes.enumerated() {
            buffer.writeInteger(byte)
            if let frame = try parser.nextFrame(from: &buffer) {
                frames.append(frame)
                #expect(index == bytes.count - 1)
            } else if buffer.readableBytes != index + 1 {
                consumedEarly = true
            }
        }
        #expect(!consumedEarly)
        #expect(frames.map(\.payload.bytes) == [payload])
        #expect(buffer.readableBytes == 0)
    }

    @Test("§5.2: several frames in one buffer are returned in order, a partial one left behind")
    func severalFramesInOneBuffer() throws {
        for receiver in bothRoles {
            let frames: [(Opcode, Bool, [UInt8])] = [
                (.text, false, Array("Hel".utf8)),
                (.ping, true, Array("p".utf8)),
                (.continuation, true, Array("lo".utf8)),
                (.binary, true, [UInt8](repeating: 1, count: 200)),
                (.close, true, [0x03, 0xE8]),
            ]
            var bytes: [UInt8] = []
            for (opcode, fin, payload) in frames {
                bytes += WireFrame.bytes(from: receiver.peer, fin: fin, opcode: opcode, payload: payload)
            }
            let partial = WireFrame.bytes(from: receiver.peer, opcode: .text, payload: Array("later".utf8))
            var buffer = ByteBuffer(bytes: bytes + partial.prefix(4))
            let parser = FrameParser(role: receiver, maxFrameSize: 1000)
            var parsed: [Frame] = []
            while let frame = try parser.nextFrame(from: &buffer) { parsed.append(frame) }
            #expect(parsed.map(\.opcode) == frames.map(\.0))
            #expect(parsed.map(\.fin) == frames.map(\.1))
            #expect(parsed.map(\.payload.bytes) == frames.map(\.2))
            #expect(buffer.readableBytes == 4)
            buffer.writeBytes(partial.dropFirst(4))
            #expect(try parser.nextFrame(from: &buffer)?.payload.bytes == Array("later".utf8))
        }
    }

    @Test("§5.2: every split of a stream of frames parses the same", arguments: 0..<10)
    func arbitrarySplits(seed: Int) throws {
        var random = SeededRandom(seed: UInt64(seed) &+ 1000)
        var payloads: [[UInt8]] = []
        var stream: [UInt8] = []
        for _ in 0..<5 {
            let payload = random.bytes(Int.random(in: 0...400, using: &random))
            payloads.append(payload)
            stream += WireFrame.bytes(opcode: 0x2, payload: payload, maskKey: random.bytes(4))
        }
        let parser = FrameParser(role: .server, maxFrameSize: 1000)
        var buffer = ByteBuffer()
        var parsed: [[UInt8]] = []
        var index = 0
        while index < stream.count {
            let chunk = Int.random(in: 1...64, using: &random)
            buffer.writeBytes(stream[index..<min(index + chunk, stream.count)])
            index += chunk
            while let frame = try parser.nextFrame(from: &buffer) { parsed.append(frame.payload.bytes) }
        }
        #expect(parsed == payloads)
    }

    @Test("fewer than two bytes are never an error", arguments: 0...255)
    func singleByte(byte: Int) throws {
        for receiver in bothRoles {
            #expect(try parse([UInt8(byte)], role: receiver).frame == nil)
            #expect(try parse([], role: receiver).frame == nil)
        }
    }

    @Test("random bytes are a frame, a wait for more, or a documented error; never a crash", arguments: 0..<8)
    func randomInput(seed: Int) {
        var random = SeededRandom(seed: UInt64(seed) &* 7919)
        for _ in 0..<2000 {
            let bytes = random.bytes(Int.random(in: 0...24, using: &random))
            for receiver in bothRoles {
                do {
                    _ = try parse(bytes, role: receiver, maxFrameSize: .max, allowsRSV1: Bool.random(using: &random))
                } catch {
                    #expect([.protocolViolation, .messageTooLarge].contains(error.code))
                }
            }
        }
    }
}
