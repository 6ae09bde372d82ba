import DuplexEngineIOCore
import FuzzSupport
import NIOCore

// Engine.IO polling payloads (protocol.md 4.1.4, 4.1.9): v4 (0x1E-separated), v3 XHR2 binary
// and text (length-prefixed), v3 base64, and v3 JSONP form bodies (`d=<payload>`).
//
// Input: [flags] [body...]; flags: bits 0-1 the format, bit 2 an octet-stream content type,
// bits 3-5 maxPackets - 1.
//
// Oracle: decoding fails only with `invalidPayload` or `invalidPacket` (or `badRequest` for a
// binary content type in v4); at most maxPackets packets come out; re-encoding them (for JSONP,
// as the v3 text payload it wraps) decodes to the same packets.

private let formats: [EngineIOPollingFormat] = [.v4, .v3Binary, .v3Base64, .v3JSONP(index: 0)]

/// The executable's entry point under SwiftPM's debug-build name (see `runLibFuzzer`).
@_cdecl("FuzzEngineIOPayload_main")
public func fuzzEngineIOPayloadMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzEngineIOPayload)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEngineIOPayload(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.byte()
    let format = formats[Int(flags & 3)]
    let contentType = flags & 4 != 0 ? "application/octet-stream" : "text/plain;charset=UTF-8"
    let maxPackets = 1 + Int(flags >> 3) & 7
    let body = ByteBuffer(bytes: input.rest())

    let packets: [EngineIOPacket]
    do {
        packets = try format.decodePayload(body, contentType: contentType, maxPackets: maxPackets)
    } catch {
        var allowed: [EngineIOError.Code] = [.invalidPayload, .invalidPacket]
        if format == .v4 && flags & 4 != 0 { allowed.append(.badRequest) }
        expect(allowed.contains(error.code), "decoding a \(format) body threw \(error.code): \(error.message)")
        return 0
    }
    expect(packets.count <= maxPackets, "\(packets.count) packets decoded, limit \(maxPackets)")

    let codec = format.jsonpIndex == nil ? format : .v3Base64
    let (encoded, count) = codec.encodePayload(packets)
    expect(count == packets.count, "encoded \(count) of \(packets.count) packets")
    do {
        let again = try codec.decodePayload(encoded.bytes, contentType: encoded.contentType.rawValue, maxPackets: maxPackets)
        expect(again == packets, "\(packets) re-encode to \(hex(encoded.bytes.readableBytesView)), which decodes to \(again)")
    } catch {
        violated("\(packets) re-encode to \(hex(encoded.bytes.readableBytesView)), which fails to decode: \(error)")
    }
    return 0
}
