import DuplexWebSocketCore
import FuzzSupport
import NIOCore

// RFC 6455 §5.2 frames through `FrameParser` alone, fed in chunks.
//
// Input: [flags] [split seed] [stream...]; flags: bit 0 role (1 = client, parses unmasked
// server frames), bit 1 RSV1 allowed, bits 2-3 maxFrameSize (0, 125, 1 KiB, 64 KiB).
//
// Oracle: every frame is either returned or rejected with `protocolViolation` or
// `messageTooLarge`; a returned frame respects §5.2/§5.5 and the size limit (for a compressed
// frame, zlib's bound on deflating maxFrameSize bytes), consumed exactly its header and
// payload, and re-serializes to a frame that parses back equal.

private let frameSizeLimits = [0, 125, 1024, 65_536]

/// The executable's entry point under SwiftPM's debug-build name (see `runLibFuzzer`).
@_cdecl("FuzzFrameParser_main")
public func fuzzFrameParserMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzFrameParser)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrameParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.byte()
    let role: Role = flags & 1 == 1 ? .client : .server
    let allowsRSV1 = flags & 2 != 0
    let maxFrameSize = frameSizeLimits[Int(flags >> 2) & 3]
    var splitter = ChunkSplitter(seed: input.byte())
    let parser = FrameParser(role: role, maxFrameSize: maxFrameSize, allowsRSV1: allowsRSV1)

    var buffer = ByteBuffer()
    stream: for chunk in splitter.split(input.rest()) {
        buffer.writeBytes(chunk)
        while true {
            let before = buffer.readableBytes
            let frame: Frame?
            do {
                frame = try parser.nextFrame(from: &buffer)
            } catch {
                expect(
                    error.code == .protocolViolation || error.code == .messageTooLarge,
                    "FrameParser threw undocumented \(error.code)"
                )
                expect(buffer.readableBytes == before, "a rejected frame consumed bytes")
                break stream
            }
            guard let frame else {
                expect(buffer.readableBytes == before, "an incomplete frame consumed bytes")
                break
            }
            check(frame, consumed: before - buffer.readableBytes, role: role, allowsRSV1: allowsRSV1, limit: maxFrameSize)
        }
    }
    return 0
}

private func check(_ frame: Frame, consumed: Int, role: Role, allowsRSV1: Bool, limit: Int) {
    let length = frame.payload.readableBytes
    // zlib's deflateBound for stored blocks: what deflating `limit` bytes may take.
    let compressedLimit = limit + (limit >> 12) + (limit >> 14) + (limit >> 25) + 32
    expect(length <= (frame.rsv1 ? compressedLimit : limit), "frame of \(length) bytes over maxFrameSize \(limit)")
    expect(frame.opcode.isKnown, "reserved opcode \(frame.opcode.rawValue) accepted")
    expect(!frame.rsv2 && !frame.rsv3, "RSV2/RSV3 accepted")
    expect(!frame.rsv1 || (allowsRSV1 && !frame.opcode.isControl), "RSV1 accepted without deflate or on a control frame")
    if frame.opcode.isControl {
        expect(frame.fin && length <= 125, "fragmented or oversized control frame accepted")
    }
    // The wire form may use a longer length encoding than needed, never a shorter one.
    let masked = role == .server
    let minimum = FrameSerializer.headerSize(payloadLength: length, masked: masked) + length
    expect(consumed >= minimum && consumed <= minimum + 8, "consumed \(consumed) bytes for a \(length)-byte payload")

    // Re-serialize as the peer would send it and parse it back.
    let (header, body) = FrameSerializer.serialize(
        opcode: frame.opcode, fin: frame.fin, rsv1: frame.rsv1, payload: frame.payload,
        maskKey: masked ? 0x3712_A5C0 : nil, allocator: ByteBufferAllocator()
    )
    var wire = header
    if var body { wire.writeBuffer(&body) }
    let reparser = FrameParser(role: role, maxFrameSize: limit, allowsRSV1: allowsRSV1)
    do {
        let again = try reparser.nextFrame(from: &wire)
        expect(again == frame, "re-serialized frame parses differently: \(String(describing: again)) vs \(frame)")
        expect(wire.readableBytes == 0, "re-serialized frame left \(wire.readableBytes) bytes")
    } catch {
        violated("re-serialized frame rejected: \(error)")
    }
}
