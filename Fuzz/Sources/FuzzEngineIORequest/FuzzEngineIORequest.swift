import DuplexEngineIOCore
import FuzzSupport

// Engine.IO request classification (protocol.md 4.1.1, 4.1.7; the reference server's
// `verify` and `handshake`): query parsing, then `classify`.
//
// Input: [flags] then an HTTP request head as text (`METHOD target`, then header lines);
// flags: bit 0 allow EIO=3, bit 1 polling only.
//
// Oracle: building the request fails only with `badRequest`; classification fails only with
// the documented codes, each answered with a 4xx status; a handshake for v3 only when v3 is
// allowed; an upgrade only for a WebSocket upgrade request.

/// The executable's entry point under SwiftPM's debug-build name (see `runLibFuzzer`).
@_cdecl("FuzzEngineIORequest_main")
public func fuzzEngineIORequestMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzEngineIORequest)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEngineIORequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.byte()
    let allowsEIO3 = flags & 1 != 0
    let transports: [EngineIOTransport] = flags & 2 != 0 ? [.polling] : [.polling, .websocket]
    let head = HTTPHeadText(input.rest())
    let words = head.firstLine.split(separator: " ", omittingEmptySubsequences: false)
    let method = words.first.map(String.init) ?? ""
    let target = words.count > 1 ? String(words[1]) : ""

    let request: EngineIORequest
    do {
        request = try EngineIORequest(method: method, target: target, headers: head.fields)
    } catch {
        expect(error.code == .badRequest, "parsing target \(target) threw \(error.code)")
        return 0
    }
    _ = request.pollingFormat
    do {
        let kind = try request.classify(transports: transports, allowsEIO3: allowsEIO3)
        switch kind {
        case .handshake(let transport, let version):
            expect(transports.contains(transport), "handshake over disabled \(transport)")
            expect(version == .v4 || (version == .v3 && allowsEIO3), "handshake for \(version)")
            expect(request.method.uppercased() == "GET", "handshake with \(request.method)")
        case .upgrade:
            expect(request.isWebSocketUpgrade, "upgrade without Upgrade: websocket")
        case .poll, .post, .preflight:
            break
        }
    } catch {
        let documented: [EngineIOError.Code] = [
            .transportUnknown, .badRequest, .sessionIdUnknown, .badHandshakeMethod, .unsupportedProtocolVersion,
        ]
        expect(documented.contains(error.code), "classify threw \(error.code)")
        expect((400...499).contains(error.httpStatus), "\(error.code) answered with \(error.httpStatus)")
        _ = error.httpResponseBody
    }
    return 0
}
