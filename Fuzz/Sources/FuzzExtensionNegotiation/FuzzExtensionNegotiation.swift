import DuplexWebSocketCore
import FuzzSupport

// `Sec-WebSocket-Extensions` parsing and permessage-deflate negotiation (RFC 6455 §9.1,
// RFC 7692 §5, §7.1), both roles.
//
// Input: [configuration] then header values, one per line.
//
// Oracle: `serverNegotiate` fails only with `invalidHandshakeRequest`; an accepted offer gives a
// codec the server can build and a response that the server accepts again unchanged and a
// default client accepts with the same parameters. `clientAccept` fails only with
// `invalidHandshakeResponse` or `negotiationFailed`; accepted parameters honour every limit the
// configuration asked for and give a codec the client can build.

private let configurations = [
    PerMessageDeflateConfiguration.default,
    PerMessageDeflateConfiguration(serverNoContextTakeover: true, clientNoContextTakeover: true),
    PerMessageDeflateConfiguration(serverMaxWindowBits: 10, clientMaxWindowBits: 9),
    PerMessageDeflateConfiguration(serverNoContextTakeover: true, serverMaxWindowBits: 15, clientMaxWindowBits: 12),
]

/// The executable's entry point under SwiftPM's debug-build name (see `runLibFuzzer`).
@_cdecl("FuzzExtensionNegotiation_main")
public func fuzzExtensionNegotiationMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzExtensionNegotiation)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzExtensionNegotiation(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let configuration = configurations[Int(input.byte()) % configurations.count]
    let values = String(decoding: input.rest(), as: UTF8.self)
        .split(separator: "\n", omittingEmptySubsequences: false)
        .map(String.init)
    checkServer(offers: values, configuration: configuration)
    checkClient(response: values, configuration: configuration)
    return 0
}

private func checkServer(offers: [String], configuration: PerMessageDeflateConfiguration) {
    let negotiated: (responseValue: String, parameters: PerMessageDeflateParameters)?
    do {
        negotiated = try PerMessageDeflateNegotiation.serverNegotiate(offerValues: offers, configuration: configuration)
    } catch {
        expect(error.code == .invalidHandshakeRequest, "serverNegotiate threw \(error.code)")
        return
    }
    guard let (response, parameters) = negotiated else { return }
    if configuration.serverNoContextTakeover { expect(parameters.serverNoContextTakeover, "server_no_context_takeover dropped") }
    if configuration.clientNoContextTakeover { expect(parameters.clientNoContextTakeover, "client_no_context_takeover dropped") }
    if let limit = configuration.serverMaxWindowBits {
        expect(parameters.serverMaxWindowBits <= limit, "server window \(parameters.serverMaxWindowBits) over \(limit)")
    }
    do {
        _ = try PerMessageDeflate(parameters: parameters, isClient: false, configuration: configuration)
    } catch {
        violated("server accepted \(parameters) but cannot build its codec: \(error)")
    }
    do {
        let again = try PerMessageDeflateNegotiation.serverNegotiate(offerValues: [response], configuration: configuration)
        expect(again?.responseValue == response, "response \(response) is not a fixed point: \(String(describing: again))")
    } catch {
        violated("the server's own response \(response) is malformed: \(error)")
    }
    guard parameters.clientMaxWindowBits >= 9 else { return }  // zlib cannot compress with 8 bits
    do {
        let client = try PerMessageDeflateNegotiation.clientAccept(responseValues: [response], configuration: .default)
        expect(client == parameters, "client reads \(response) as \(String(describing: client)), server meant \(parameters)")
    } catch {
        violated("a default client refuses the server's response \(response): \(error)")
    }
}

private func checkClient(response: [String], configuration: PerMessageDeflateConfiguration) {
    let accepted: PerMessageDeflateParameters?
    do {
        accepted = try PerMessageDeflateNegotiation.clientAccept(responseValues: response, configuration: configuration)
    } catch {
        expect(
            error.code == .invalidHandshakeResponse || error.code == .negotiationFailed,
            "clientAccept threw \(error.code)"
        )
        return
    }
    guard let parameters = accepted else { return }
    if configuration.serverNoContextTakeover { expect(parameters.serverNoContextTakeover, "server_no_context_takeover dropped") }
    if configuration.clientNoContextTakeover { expect(parameters.clientNoContextTakeover, "client_no_context_takeover dropped") }
    expect(parameters.serverMaxWindowBits <= (configuration.serverMaxWindowBits ?? 15), "server window over the offer")
    expect(parameters.clientMaxWindowBits <= (configuration.clientMaxWindowBits ?? 15), "client window over the offer")
    expect((8...15).contains(parameters.serverMaxWindowBits), "server window \(parameters.serverMaxWindowBits)")
    do {
        _ = try PerMessageDeflate(parameters: parameters, isClient: true, configuration: configuration)
    } catch {
        violated("client accepted \(parameters) but cannot build its codec: \(error)")
    }
}
