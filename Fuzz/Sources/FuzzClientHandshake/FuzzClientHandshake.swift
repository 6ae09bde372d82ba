import DuplexWebSocketCore
import FuzzSupport
import HTTPTypes
import NIOCore

// The client side of the opening handshake (RFC 6455 §4.1): `HTTPResponseHeadParser` on the
// server's response, fed in chunks, then `ClientHandshake.validate` (accept key, upgrade
// headers, subprotocol, permessage-deflate response).
//
// Input: [flags] [split seed] [response bytes...]; flags: bits 0-1 the compression offer
// (none, default, no context takeover, small windows), bit 2 small head limits.
//
// Oracle: the parser fails only with `invalidHandshakeResponse` or `headersTooLarge`, never
// consumes more than maxHeadSize (+ the blank line), never returns more than maxHeaderCount
// fields, and reports an unfinished head at end of input as `invalidHandshakeResponse`.
// Validation fails only with `handshakeRejected` (exactly when the status is not 101, carrying
// the response), `invalidHandshakeResponse` or `negotiationFailed`; success means status 101,
// a subprotocol that was offered and compression only when it was offered.

private let key = "dGhlIHNhbXBsZSBub25jZQ=="  // RFC 6455 §1.3's example; accept s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
private let offers: [PerMessageDeflateConfiguration?] = [
    nil,
    .default,
    PerMessageDeflateConfiguration(serverNoContextTakeover: true, clientNoContextTakeover: true),
    PerMessageDeflateConfiguration(serverMaxWindowBits: 10, clientMaxWindowBits: 9),
]

/// The executable's entry point under SwiftPM's debug-build name (see `runLibFuzzer`).
@_cdecl("FuzzClientHandshake_main")
public func fuzzClientHandshakeMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzClientHandshake)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzClientHandshake(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.byte()
    let compression = offers[Int(flags & 3)]
    let smallLimits = flags & 4 != 0
    var parser = smallLimits ? HTTPResponseHeadParser(maxHeadSize: 256, maxHeaderCount: 4) : HTTPResponseHeadParser()
    var splitter = ChunkSplitter(seed: input.byte())

    var buffer = ByteBuffer()
    var response: HTTPResponse? = nil
    parsing: for chunk in splitter.split(input.rest()) {
        buffer.writeBytes(chunk)
        let before = buffer.readableBytes
        do {
            response = try parser.parse(&buffer)
        } catch {
            expect(
                error.code == .invalidHandshakeResponse || error.code == .headersTooLarge,
                "HTTPResponseHeadParser threw \(error.code)"
            )
            return 0
        }
        if let response {
            let consumed = before - buffer.readableBytes
            expect(consumed <= parser.maxHeadSize + 3, "consumed a \(consumed)-byte head over \(parser.maxHeadSize)")
            expect(response.headerFields.count <= parser.maxHeaderCount, "\(response.headerFields.count) header fields")
            break parsing
        }
    }
    guard let response else {
        let error = parser.endOfInput(buffered: buffer)
        expect(error.code == .invalidHandshakeResponse, "endOfInput gave \(error.code)")
        return 0
    }

    let handshake = ClientHandshake(
        host: "example.com",
        target: "/chat",
        subprotocols: ["chat", "superchat"],
        compression: compression,
        key: key
    )
    do {
        let negotiated = try handshake.validate(response)
        expect(response.status.code == 101, "accepted status \(response.status.code)")
        if let subprotocol = negotiated.subprotocol {
            expect(handshake.subprotocols.contains(subprotocol), "accepted subprotocol \(subprotocol)")
        }
        if let parameters = negotiated.compression {
            guard let compression else { violated("accepted compression that was not offered") }
            do {
                _ = try PerMessageDeflate(parameters: parameters, isClient: true, configuration: compression)
            } catch {
                violated("accepted \(parameters) but cannot build the codec: \(error)")
            }
        }
    } catch {
        switch error.code {
        case .handshakeRejected:
            expect(response.status.code != 101, "101 reported as handshakeRejected")
            expect(error.response == response, "handshakeRejected without the response")
        case .invalidHandshakeResponse, .negotiationFailed:
            expect(response.status.code == 101, "status \(response.status.code) reported as \(error.code)")
        default:
            violated("ClientHandshake.validate threw \(error.code)")
        }
    }
    return 0
}
