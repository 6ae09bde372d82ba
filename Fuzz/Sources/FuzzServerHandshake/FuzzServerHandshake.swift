import DuplexWebSocketCore
import FuzzSupport
import HTTPTypes

// The server side of the opening handshake (RFC 6455 §4.2.1) and its permessage-deflate
// negotiation (RFC 7692 §5, §7.1): `ServerHandshake.validate`, then
// `PerMessageDeflateNegotiation.serverNegotiate` on the accepted request's offers.
//
// Input: an HTTP request head as text (`METHOD target HTTP/1.x`, then header lines).
//
// Oracle: a refusal has code `invalidHandshakeRequest` and status 400, 405 or 426; an accepted
// request has a valid key; negotiation fails only with `invalidHandshakeRequest`.

private let serverConfigurations = [
    PerMessageDeflateConfiguration.default,
    PerMessageDeflateConfiguration(serverNoContextTakeover: true, clientNoContextTakeover: true),
    PerMessageDeflateConfiguration(serverMaxWindowBits: 10, clientMaxWindowBits: 9),
]

/// The executable's entry point under SwiftPM's debug-build name (see `runLibFuzzer`).
@_cdecl("FuzzServerHandshake_main")
public func fuzzServerHandshakeMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzServerHandshake)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzServerHandshake(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let head = HTTPHeadText(input.rest())
    let words = head.firstLine.split(separator: " ")
    guard let methodName = words.first, let method = HTTPRequest.Method(String(methodName)) else { return 0 }
    let isHTTP11OrLater = words.last.map { $0 == "HTTP/1.1" || $0 == "HTTP/2" } ?? false
    var headers = HTTPFields()
    for field in head.fields {
        guard let name = HTTPField.Name(field.name) else { continue }
        headers.append(HTTPField(name: name, value: field.value))
    }

    switch ServerHandshake.validate(method: method, isHTTP11OrLater: isHTTP11OrLater, headers: headers) {
    case .failure(let rejection):
        expect(rejection.error.code == .invalidHandshakeRequest, "rejected with \(rejection.error.code)")
        expect([400, 405, 426].contains(rejection.status.code), "rejected with status \(rejection.status.code)")
    case .success(let request):
        expect(HandshakeKey.isValid(request.key), "accepted key \(request.key)")
        _ = ServerHandshake.acceptHeaders(key: request.key, subprotocol: request.offeredSubprotocols.first, extensions: nil)
        for configuration in serverConfigurations {
            checkNegotiation(offers: request.extensionOffers, configuration: configuration)
        }
    }
    return 0
}

/// The deep checks of an accepted offer live in the ExtensionNegotiation harness; here the
/// offers come from a real request, and only the error contract is checked.
private func checkNegotiation(offers: [String], configuration: PerMessageDeflateConfiguration) {
    do {
        _ = try PerMessageDeflateNegotiation.serverNegotiate(offerValues: offers, configuration: configuration)
    } catch {
        expect(error.code == .invalidHandshakeRequest, "serverNegotiate threw \(error.code)")
    }
}
