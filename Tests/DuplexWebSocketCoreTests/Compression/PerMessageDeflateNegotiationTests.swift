import Testing

@testable import DuplexWebSocketCore

@Suite("RFC 7692 §5, §7.1: permessage-deflate negotiation")
struct PerMessageDeflateNegotiationTests {
    typealias Configuration = PerMessageDeflateConfiguration
    typealias Parameters = PerMessageDeflateParameters

    // MARK: Client offer

    struct OfferCase: CustomTestStringConvertible, Sendable {
        var configuration: Configuration
        var offer: String
        var testDescription: String { offer }
    }

    static let offerCases: [OfferCase] = [
        // RFC 7692 §7.1.2.2: client_max_window_bits without a value announces support.
        OfferCase(configuration: .default, offer: "permessage-deflate; client_max_window_bits"),
        OfferCase(
            configuration: Configuration(clientMaxWindowBits: 12),
            offer: "permessage-deflate; client_max_window_bits=12"
        ),
        OfferCase(
            configuration: Configuration(
                serverNoContextTakeover: true,
                clientNoContextTakeover: true,
                serverMaxWindowBits: 10,
                clientMaxWindowBits: 11
            ),
            offer: "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                + "server_max_window_bits=10; client_max_window_bits=11"
        ),
    ]

    @Test("§7.1: the client offer carries the configured parameters", arguments: offerCases)
    func clientOffer(_ testCase: OfferCase) throws {
        #expect(PerMessageDeflateNegotiation.clientOffer(testCase.configuration) == testCase.offer)
        // The offer is well-formed and a server with default settings accepts it.
        let negotiated = try PerMessageDeflateNegotiation.serverNegotiate(
            offerValues: [testCase.offer],
            configuration: .default
        )
        #expect(negotiated != nil)
    }

    // MARK: Client accepting the server's response

    enum ClientOutcome: Equatable, Sendable {
        case noExtension
        case accepted(Parameters)
        case failed(WebSocketError.Code)
    }

    struct ClientCase: CustomTestStringConvertible, Sendable {
        var name: String
        var configuration: Configuration = .default
        var response: [String]
        var outcome: ClientOutcome
        var testDescription: String { name }
    }

    static let clientCases: [ClientCase] = [
        ClientCase(name: "no extension header", response: [], outcome: .noExtension),
        ClientCase(name: "empty extension header", response: [""], outcome: .noExtension),
        ClientCase(name: "no parameters", response: ["permessage-deflate"], outcome: .accepted(Parameters())),
        ClientCase(
            name: "§7.1.1.1 server_no_context_takeover added by the server",
            response: ["permessage-deflate; server_no_context_takeover"],
            outcome: .accepted(Parameters(serverNoContextTakeover: true))
        ),
        ClientCase(
            name: "§7.1.1.1 server_no_context_takeover requested and granted",
            configuration: Configuration(serverNoContextTakeover: true),
            response: ["permessage-deflate; server_no_context_takeover"],
            outcome: .accepted(Parameters(serverNoContextTakeover: true))
        ),
        ClientCase(
            name: "§7.1.1.1 server_no_context_takeover requested but missing",
            configuration: Configuration(serverNoContextTakeover: true),
            response: ["permessage-deflate"],
            outcome: .failed(.negotiationFailed)
        ),
        ClientCase(
            name: "§7.1.1.2 client_no_context_takeover added by the server",
            response: ["permessage-deflate; client_no_context_takeover"],
            outcome: .accepted(Parameters(clientNoContextTakeover: true))
        ),
        ClientCase(
            name: "§7.1.1.2 client_no_context_takeover offered is kept when the response omits it",
            configuration: Configuration(clientNoContextTakeover: true),
            response: ["permessage-deflate"],
            outcome: .accepted(Parameters(clientNoContextTakeover: true))
        ),
        ClientCase(
            name: "§7.1.2.1 server_max_window_bits added by the server",
            response: ["permessage-deflate; server_max_window_bits=10"],
            outcome: .accepted(Parameters(serverMaxWindowBits: 10))
        ),
        ClientCase(
            name: "§7.1.2.1 server_max_window_bits=8 is fine to inflate",
            response: ["permessage-deflate; server_max_window_bits=8"],
            outcome: .accepted(Parameters(serverMaxWindowBits: 8))
        ),
        ClientCase(
            name: "§7.1.2.1 server_max_window_bits lowered by the server",
            configuration: Configuration(serverMaxWindowBits: 10),
            response: ["permessage-deflate; server_max_window_bits=9"],
            outcome: .accepted(Parameters(serverMaxWindowBits: 9))
        ),
        ClientCase(
            name: "§7.1.2.1 server_max_window_bits granted as requested",
            configuration: Configuration(serverMaxWindowBits: 10),
            response: ["permessage-deflate; server_max_window_bits=10"],
            outcome: .accepted(Parameters(serverMaxWindowBits: 10))
        ),
        ClientCase(
            name: "§7.1.2.1 server_max_window_bits larger than requested",
            configuration: Configuration(serverMaxWindowBits: 10),
            response: ["permessage-deflate; server_max_window_bits=11"],
            outcome: .failed(.negotiationFailed)
        ),
        ClientCase(
            name: "§7.1.2.1 server_max_window_bits requested but missing",
            configuration: Configuration(serverMaxWindowBits: 10),
            response: ["permessage-deflate"],
            outcome: .failed(.negotiationFailed)
        ),
        ClientCase(
            name: "§7.1.2.2 client_max_window_bits chosen by the server",
            response: ["permessage-deflate; client_max_window_bits=10"],
            outcome: .accepted(Parameters(clientMaxWindowBits: 10))
        ),
        ClientCase(
            name: "§7.1.2.2 client_max_window_bits offered with a value and omitted in the response",
            configuration: Configuration(clientMaxWindowBits: 12),
            response: ["permessage-deflate"],
            outcome: .accepted(Parameters(clientMaxWindowBits: 12))
        ),
        ClientCase(
            name: "§7.1.2.2 client_max_window_bits lowered by the server",
            configuration: Configuration(clientMaxWindowBits: 12),
            response: ["permessage-deflate; client_max_window_bits=11"],
            outcome: .accepted(Parameters(clientMaxWindowBits: 11))
        ),
        ClientCase(
            name: "§7.1.2.2 client_max_window_bits larger than offered",
            configuration: Configuration(clientMaxWindowBits: 12),
            response: ["permessage-deflate; client_max_window_bits=13"],
            outcome: .failed(.negotiationFailed)
        ),
        ClientCase(
            name: "§7.1.2.2 client_max_window_bits=8 cannot be deflated by zlib",
            response: ["permessage-deflate; client_max_window_bits=8"],
            outcome: .failed(.negotiationFailed)
        ),
        ClientCase(
            name: "§7.1.2.2 client_max_window_bits without a value in a response",
            response: ["permessage-deflate; client_max_window_bits"],
            outcome: .failed(.negotiationFailed)
        ),
        ClientCase(
            name: "every parameter, quoted value",
            configuration: Configuration(serverNoContextTakeover: true, serverMaxWindowBits: 12),
            response: [
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                    + #"server_max_window_bits="12"; client_max_window_bits=9"#
            ],
            outcome: .accepted(
                Parameters(
                    serverNoContextTakeover: true,
                    clientNoContextTakeover: true,
                    serverMaxWindowBits: 12,
                    clientMaxWindowBits: 9
                )
            )
        ),
        ClientCase(
            name: "§7.1 unknown parameter",
            response: ["permessage-deflate; x_max_window_bits=10"],
            outcome: .failed(.negotiationFailed)
        ),
        ClientCase(
            name: "§7.1 duplicate parameter",
            response: ["permessage-deflate; server_no_context_takeover; server_no_context_takeover"],
            outcome: .failed(.negotiationFailed)
        ),
        ClientCase(
            name: "§7.1 duplicate window parameter",
            response: ["permessage-deflate; server_max_window_bits=10; server_max_window_bits=10"],
            outcome: .failed(.negotiationFailed)
        ),
        ClientCase(
            name: "§7.1.1 no_context_takeover with a value",
            response: ["permessage-deflate; client_no_context_takeover=true"],
            outcome: .failed(.negotiationFailed)
        ),
        ClientCase(
            name: "§7.1.2 window bits above 15",
            response: ["permessage-deflate; server_max_window_bits=16"],
            outcome: .failed(.negotiationFailed)
        ),
        ClientCase(
            name: "§7.1.2 window bits below 8",
            response: ["permessage-deflate; server_max_window_bits=7"],
            outcome: .failed(.negotiationFailed)
        ),
        ClientCase(
            name: "§7.1.2 window bits with a leading zero",
            response: ["permessage-deflate; server_max_window_bits=010"],
            outcome: .failed(.negotiationFailed)
        ),
        ClientCase(
            name: "§7.1.2 window bits with a sign",
            response: ["permessage-deflate; server_max_window_bits=+10"],
            outcome: .failed(.negotiationFailed)
        ),
        ClientCase(
            name: "§7.1.2.1 server_max_window_bits without a value",
            response: ["permessage-deflate; server_max_window_bits"],
            outcome: .failed(.negotiationFailed)
        ),
        ClientCase(
            name: "RFC 6455 §9.1 extension that was not offered",
            response: ["x-webkit-deflate-frame"],
            outcome: .failed(.negotiationFailed)
        ),
        ClientCase(
            name: "RFC 6455 §9.1 extension that was not offered, after permessage-deflate",
            response: ["permessage-deflate, x-webkit-deflate-frame"],
            outcome: .failed(.negotiationFailed)
        ),
        ClientCase(
            name: "permessage-deflate twice in one value",
            response: ["permessage-deflate, permessage-deflate"],
            outcome: .failed(.negotiationFailed)
        ),
        ClientCase(
            name: "permessage-deflate twice in two header fields",
            response: ["permessage-deflate", "permessage-deflate; server_no_context_takeover"],
            outcome: .failed(.negotiationFailed)
        ),
        ClientCase(
            name: "malformed header",
            response: ["permessage-deflate;"],
            outcome: .failed(.invalidHandshakeResponse)
        ),
        ClientCase(
            name: "invalid configuration",
            configuration: Configuration(serverMaxWindowBits: 8),
            response: ["permessage-deflate"],
            outcome: .failed(.invalidConfiguration)
        ),
    ]

    @Test("§7.1: the client validates the server's response", arguments: clientCases)
    func clientAccept(_ testCase: ClientCase) {
        let outcome: ClientOutcome
        do {
            let parameters = try PerMessageDeflateNegotiation.clientAccept(
                responseValues: testCase.response,
                configuration: testCase.configuration
            )
            outcome = parameters.map { .accepted($0) } ?? .noExtension
        } catch {
            outcome = .failed(error.code)
        }
        #expect(outcome == testCase.outcome)
    }

    // MARK: Server negotiation

    enum ServerOutcome: Equatable, Sendable {
        case declined
        case accepted(response: String, Parameters)
        case failed(WebSocketError.Code)
    }

    struct ServerCase: CustomTestStringConvertible, Sendable {
        var name: String
        var configuration: Configuration = .default
        var offers: [String]
        var outcome: ServerOutcome
        var testDescription: String { name }
    }

    static let serverCases: [ServerCase] = [
        ServerCase(name: "no extension header", offers: [], outcome: .declined),
        ServerCase(name: "another extension only", offers: ["x-webkit-deflate-frame"], outcome: .declined),
        ServerCase(
            name: "no parameters (Firefox)",
            offers: ["permessage-deflate"],
            outcome: .accepted(response: "permessage-deflate", Parameters())
        ),
        ServerCase(
            name: "§7.1.2.2 value-less client_max_window_bits (Chromium), no server limit",
            offers: ["permessage-deflate; client_max_window_bits"],
            outcome: .accepted(response: "permessage-deflate", Parameters())
        ),
        ServerCase(
            name: "§7.1.2.2 value-less client_max_window_bits, server limit applied",
            configuration: Configuration(clientMaxWindowBits: 10),
            offers: ["permessage-deflate; client_max_window_bits"],
            outcome: .accepted(
                response: "permessage-deflate; client_max_window_bits=10",
                Parameters(clientMaxWindowBits: 10)
            )
        ),
        ServerCase(
            name: "§7.1.2.2 server limit not applicable when the client did not offer the parameter",
            configuration: Configuration(clientMaxWindowBits: 10),
            offers: ["permessage-deflate"],
            outcome: .accepted(response: "permessage-deflate", Parameters())
        ),
        ServerCase(
            name: "§7.1.2.2 offered client_max_window_bits lowered to the server limit",
            configuration: Configuration(clientMaxWindowBits: 10),
            offers: ["permessage-deflate; client_max_window_bits=12"],
            outcome: .accepted(
                response: "permessage-deflate; client_max_window_bits=10",
                Parameters(clientMaxWindowBits: 10)
            )
        ),
        ServerCase(
            name: "§7.1.2.2 offered client_max_window_bits below the server limit",
            configuration: Configuration(clientMaxWindowBits: 10),
            offers: ["permessage-deflate; client_max_window_bits=9"],
            outcome: .accepted(
                response: "permessage-deflate; client_max_window_bits=9",
                Parameters(clientMaxWindowBits: 9)
            )
        ),
        ServerCase(
            name: "§7.1.2.2 offered client_max_window_bits echoed without a server limit",
            offers: ["permessage-deflate; client_max_window_bits=8"],
            outcome: .accepted(
                response: "permessage-deflate; client_max_window_bits=8",
                Parameters(clientMaxWindowBits: 8)
            )
        ),
        ServerCase(
            name: "§7.1.2.1 server_max_window_bits requested",
            offers: ["permessage-deflate; server_max_window_bits=10"],
            outcome: .accepted(
                response: "permessage-deflate; server_max_window_bits=10",
                Parameters(serverMaxWindowBits: 10)
            )
        ),
        ServerCase(
            name: "§7.1.2.1 server_max_window_bits requested above the server limit",
            configuration: Configuration(serverMaxWindowBits: 10),
            offers: ["permessage-deflate; server_max_window_bits=12"],
            outcome: .accepted(
                response: "permessage-deflate; server_max_window_bits=10",
                Parameters(serverMaxWindowBits: 10)
            )
        ),
        ServerCase(
            name: "§7.1.2.1 server_max_window_bits requested below the server limit",
            configuration: Configuration(serverMaxWindowBits: 12),
            offers: ["permessage-deflate; server_max_window_bits=9"],
            outcome: .accepted(
                response: "permessage-deflate; server_max_window_bits=9",
                Parameters(serverMaxWindowBits: 9)
            )
        ),
        ServerCase(
            name: "§7.1.2.1 server limit added to an offer without one",
            configuration: Configuration(serverMaxWindowBits: 10),
            offers: ["permessage-deflate"],
            outcome: .accepted(
                response: "permessage-deflate; server_max_window_bits=10",
                Parameters(serverMaxWindowBits: 10)
            )
        ),
        ServerCase(
            name: "§7.1.2.1 server_max_window_bits=8 is declined: zlib cannot deflate with it",
            offers: ["permessage-deflate; server_max_window_bits=8"],
            outcome: .declined
        ),
        ServerCase(
            name: "§5.1 the next offer is tried after a declined one",
            offers: ["permessage-deflate; server_max_window_bits=8", "permessage-deflate; client_max_window_bits"],
            outcome: .accepted(response: "permessage-deflate", Parameters())
        ),
        ServerCase(
            name: "§5.1 the first acceptable offer wins",
            offers: ["permessage-deflate; server_max_window_bits=10, permessage-deflate"],
            outcome: .accepted(
                response: "permessage-deflate; server_max_window_bits=10",
                Parameters(serverMaxWindowBits: 10)
            )
        ),
        ServerCase(
            name: "§7.1.1.1 server_no_context_takeover requested",
            offers: ["permessage-deflate; server_no_context_takeover"],
            outcome: .accepted(
                response: "permessage-deflate; server_no_context_takeover",
                Parameters(serverNoContextTakeover: true)
            )
        ),
        ServerCase(
            name: "§7.1.1.2 client_no_context_takeover offered",
            offers: ["permessage-deflate; client_no_context_takeover"],
            outcome: .accepted(
                response: "permessage-deflate; client_no_context_takeover",
                Parameters(clientNoContextTakeover: true)
            )
        ),
        ServerCase(
            name: "§7.1.1 no_context_takeover imposed by the server",
            configuration: Configuration(serverNoContextTakeover: true, clientNoContextTakeover: true),
            offers: ["permessage-deflate"],
            outcome: .accepted(
                response: "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
                Parameters(serverNoContextTakeover: true, clientNoContextTakeover: true)
            )
        ),
        ServerCase(
            name: "every parameter, quoted value, other extensions ignored",
            configuration: Configuration(serverMaxWindowBits: 11, clientMaxWindowBits: 12),
            offers: [
                "x-webkit-deflate-frame",
                "permessage-deflate; client_no_context_takeover; "
                    + #"server_max_window_bits="13"; client_max_window_bits, foo"#,
            ],
            outcome: .accepted(
                response: "permessage-deflate; client_no_context_takeover; server_max_window_bits=11; "
                    + "client_max_window_bits=12",
                Parameters(clientNoContextTakeover: true, serverMaxWindowBits: 11, clientMaxWindowBits: 12)
            )
        ),
        ServerCase(
            name: "§7.1 unknown parameter declines the offer",
            offers: ["permessage-deflate; foo=bar"],
            outcome: .declined
        ),
        ServerCase(
            name: "§7.1 unknown parameter declines only that offer",
            offers: ["permessage-deflate; foo=bar, permessage-deflate; client_no_context_takeover"],
            outcome: .accepted(
                response: "permessage-deflate; client_no_context_takeover",
                Parameters(clientNoContextTakeover: true)
            )
        ),
        ServerCase(
            name: "§7.1 duplicate parameter declines the offer",
            offers: ["permessage-deflate; client_max_window_bits; client_max_window_bits=10"],
            outcome: .declined
        ),
        ServerCase(
            name: "§7.1.2 invalid window value declines the offer",
            offers: ["permessage-deflate; server_max_window_bits=16"],
            outcome: .declined
        ),
        ServerCase(
            name: "§7.1.2 window value with a leading zero declines the offer",
            offers: ["permessage-deflate; client_max_window_bits=09"],
            outcome: .declined
        ),
        ServerCase(
            name: "§7.1.2.1 value-less server_max_window_bits declines the offer",
            offers: ["permessage-deflate; server_max_window_bits"],
            outcome: .declined
        ),
        ServerCase(
            name: "§7.1.1 no_context_takeover with a value declines the offer",
            offers: ["permessage-deflate; server_no_context_takeover=1"],
            outcome: .declined
        ),
        ServerCase(
            name: "malformed header",
            offers: ["permessage-deflate; client_max_window_bits="],
            outcome: .failed(.invalidHandshakeRequest)
        ),
        ServerCase(
            name: "malformed second header field",
            offers: ["permessage-deflate", "permessage-deflate,;"],
            outcome: .failed(.invalidHandshakeRequest)
        ),
        ServerCase(
            name: "invalid configuration",
            configuration: Configuration(compressionLevel: 12),
            offers: ["permessage-deflate"],
            outcome: .failed(.invalidConfiguration)
        ),
    ]

    @Test("§5.1, §7.1: the server accepts the first acceptable offer", arguments: serverCases)
    func serverNegotiate(_ testCase: ServerCase) throws {
        let outcome: ServerOutcome
        do {
            if let negotiated = try PerMessageDeflateNegotiation.serverNegotiate(
                offerValues: testCase.offers,
                configuration: testCase.configuration
            ) {
                outcome = .accepted(response: negotiated.responseValue, negotiated.parameters)
            } else {
                outcome = .declined
            }
        } catch {
            outcome = .failed(error.code)
        }
        #expect(outcome == testCase.outcome)
    }

    static let configurationPairs: [(client: Configuration, server: Configuration)] = [
        (.default, .default),
        (Configuration(serverNoContextTakeover: true, serverMaxWindowBits: 12), .default),
        (.default, Configuration(serverNoContextTakeover: true, clientNoContextTakeover: true)),
        (Configuration(clientMaxWindowBits: 11), Configuration(serverMaxWindowBits: 10, clientMaxWindowBits: 9)),
        (
            Configuration(clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 15),
            Configuration(serverMaxWindowBits: 15, clientMaxWindowBits: 12)
        ),
    ]

    @Test("§7.1: a client and a server agree on the same parameters", arguments: configurationPairs)
    func clientAndServerAgree(client: Configuration, server: Configuration) throws {
        let offer = PerMessageDeflateNegotiation.clientOffer(client)
        let negotiated = try #require(
            try PerMessageDeflateNegotiation.serverNegotiate(offerValues: [offer], configuration: server)
        )
        let accepted = try PerMessageDeflateNegotiation.clientAccept(
            responseValues: [negotiated.responseValue],
            configuration: client
        )
        #expect(accepted == negotiated.parameters)
    }
}
