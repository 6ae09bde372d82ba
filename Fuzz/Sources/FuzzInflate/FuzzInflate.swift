import CDuplexZlib  // the module map of DuplexWebSocketCore's zlib shim, for the reference inflater
import DuplexWebSocketCore
import FuzzSupport
import NIOCore

// permessage-deflate decompression with limits (RFC 7692 §7.2.2), through the public path: a
// client `ConnectionStateMachine` with the extension negotiated receives the input as the
// payload of one compressed binary message, split into fragments.
//
// Input: [flags] [split seed] [deflate data...]; flags: bits 0-2 maxMessageSize, bit 3 send
// the message twice (no context takeover, so both must inflate alike).
//
// Oracle (differential against zlib itself): when a plain raw inflate of `payload + 00 00 ff ff`
// produces at most maxMessageSize bytes, the delivered message is exactly those bytes; when it
// produces more, the connection fails with `messageTooLarge` (1009); when the data is invalid
// DEFLATE, with `protocolViolation` (1002). Never a byte past the limit.

private let messageLimits = [0, 1, 7, 64, 1000, 4096, 32_768, 100_000]

/// The executable's entry point under SwiftPM's debug-build name (see `runLibFuzzer`).
@_cdecl("FuzzInflate_main")
public func fuzzInflateMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzInflate)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInflate(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.byte()
    let limit = messageLimits[Int(flags & 7)]
    let messageCount = flags & 8 != 0 ? 2 : 1
    var splitter = ChunkSplitter(seed: input.byte(), maxChunk: 32)
    let payload = input.rest()

    let parameters = PerMessageDeflateParameters(
        serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 15, clientMaxWindowBits: 15
    )
    let deflate: PerMessageDeflate
    do {
        deflate = try PerMessageDeflate(parameters: parameters, isClient: true, configuration: .default)
    } catch {
        violated("PerMessageDeflate rejected valid parameters: \(error)")
    }
    var machine = ConnectionStateMachine(
        configuration: .init(
            role: .client,
            limits: WebSocketLimits(maxFrameSize: 1 << 20, maxMessageSize: limit),
            deflate: deflate
        ),
        now: .uptimeNanoseconds(0)
    )

    let expected = referenceInflate(payload, limit: limit)
    var fragments = splitter.split(payload)
    if fragments.count > 1 && splitter.next() % 4 == 0 { fragments.append([]) }  // an empty final fragment
    for _ in 0..<messageCount {
        var wire = ByteBuffer()
        for (index, fragment) in fragments.enumerated() {
            var (header, body) = FrameSerializer.serialize(
                opcode: index == 0 ? .binary : .continuation,
                fin: index == fragments.count - 1,
                rsv1: index == 0,  // RFC 7692 §6.1: RSV1 on the first frame only
                payload: ByteBuffer(bytes: fragment),
                maskKey: nil,
                allocator: ByteBufferAllocator()
            )
            wire.writeBuffer(&header)
            if var body { wire.writeBuffer(&body) }
        }
        machine.bytesReceived(wire, now: .uptimeNanoseconds(0))
        var delivered: [UInt8]? = nil
        var failure: WebSocketError? = nil
        while let action = machine.nextAction() {
            switch action {
            case .deliver(let message):
                expect(delivered == nil, "two messages delivered for one")
                delivered = message.bytes
            case .failed(let error):
                failure = error
            default:
                break
            }
        }
        switch expected {
        case .message(let bytes):
            expect(failure == nil, "valid \(bytes.count)-byte message (limit \(limit)) failed: \(String(describing: failure))")
            expect(delivered == bytes, "inflated \(hex(delivered ?? [])), zlib gives \(hex(bytes))")
        case .tooLarge:
            expect(delivered == nil, "delivered a message over the limit \(limit)")
            expect(failure?.code == .messageTooLarge, "over-limit message (limit \(limit)) failed with \(String(describing: failure))")
        case .invalid:
            expect(delivered == nil, "delivered a message from invalid DEFLATE data")
            expect(failure?.code == .protocolViolation, "invalid DEFLATE data failed with \(String(describing: failure))")
        }
        if failure != nil { break }
    }
    return 0
}

private enum Expected {
    case message([UInt8])
    case tooLarge
    case invalid
}

/// zlib's raw inflate of the message with RFC 7692 §7.2.2's tail appended (none for an empty
/// payload), stopping at the end of a final block; at most `limit + 1` bytes of output.
private func referenceInflate(_ payload: [UInt8], limit: Int) -> Expected {
    var stream = z_stream()
    guard inflateInit2_(&stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
        violated("inflateInit2 failed")
    }
    defer { inflateEnd(&stream) }
    var message = payload
    if !message.isEmpty { message += [0x00, 0x00, 0xFF, 0xFF] }
    var output = [UInt8](repeating: 0, count: limit + 1)
    let status: Int32 = message.withUnsafeMutableBufferPointer { input in
        output.withUnsafeMutableBufferPointer { out in
            stream.next_in = input.baseAddress
            stream.avail_in = uInt(input.count)
            stream.next_out = out.baseAddress
            stream.avail_out = uInt(out.count)
            var status = Z_OK
            while status == Z_OK && stream.avail_in > 0 && stream.avail_out > 0 {
                status = inflate(&stream, Z_SYNC_FLUSH)
            }
            return status
        }
    }
    let produced = limit + 1 - Int(stream.avail_out)
    if produced > limit { return .tooLarge }
    switch status {
    case Z_DATA_ERROR, Z_NEED_DICT: return .invalid
    case Z_OK, Z_BUF_ERROR, Z_STREAM_END: return .message(Array(output[..<produced]))
    default: violated("reference inflate returned \(status)")
    }
}
