import HTTPTypes
import Testing

@testable import DuplexWebSocketCore

/// A header name from a literal (all literals here are valid tokens).
private func name(_ raw: String) -> HTTPField.Name {
    guard let name = HTTPField.Name(raw) else { fatalError("invalid header name literal \(raw)") }
    return name
}

/// Builds header fields from (name, value) pairs, keeping repeats.
private func fields(_ pairs: [(String, String)]) -> HTTPFields {
    var fields = HTTPFields()
    for (raw, value) in pairs { fields.append(HTTPField(name: name(raw), value: value)) }
    return fields
}

/// RFC 6455 §1.2's example request.
private let rfcRequest: [(String, String)] = [
    ("Host", "server.example.com"),
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ("Origin", "http://example.com"),
    ("Sec-WebSocket-Protocol", "chat, superchat"),
    ("Sec-WebSocket-Version", "13"),
]

/// The RFC request with `name` removed, or replaced by the given values.
private func request(replacing header: String, with values: [String] = []) -> HTTPFields {
    var pairs = rfcRequest.filter { $0.0.lowercased() != header.lowercased() }
    pairs += values.map { (header, $0) }
    return fields(pairs)
}

private func rejection(
    method: HTTPRequest.Method = .get,
    http11: Bool = true,
    _ headers: HTTPFields
) -> ServerHandshake.Rejection? {
    if case .failure(let rejection) = ServerHandshake.validate(method: method, isHTTP11OrLater: http11, headers: headers) {
        return rejection
    }
    return nil
}

private func validated(_ headers: HTTPFields) -> ServerHandshake.ValidatedRequest? {
    try? ServerHandshake.validate(method: .get, isHTTP11OrLater: true, headers: headers).get()
}

@Suite("RFC 6455 §4.2: the server's opening handshake")
struct ServerHandshakeTests {
    @Test("§4.2.1: the RFC's example request is accepted")
    func rfcExample() throws {
        let request = try #require(validated(fields(rfcRequest)))
        #expect(request.key == "dGhlIHNhbXBsZSBub25jZQ==")
        #expect(request.offeredSubprotocols == ["chat", "superchat"])
        #expect(request.origin == "http://example.com")
        #expect(request.extensionOffers == [])
    }

    @Test(
        "§4.2.1 item 1: a method other than GET gets 405 with Allow: GET",
        arguments: [HTTPRequest.Method.post, .put, .head, .options, .delete, .connect, .patch])
    func methodNotAllowed(method: HTTPRequest.Method) throws {
        let rejected = try #require(rejection(method: method, fields(rfcRequest)))
        #expect(rejected.status == .methodNotAllowed)
        #expect(rejected.headers[.allow] == "GET")
        #expect(rejected.error.code == .invalidHandshakeRequest)
    }

    @Test("§4.2.1 item 1: HTTP/1.0 gets 400")
    func http10() throws {
        let rejected = try #require(rejection(http11: false, fields(rfcRequest)))
        #expect(rejected.status == .badRequest)
        #expect(rejected.error.code == .invalidHandshakeRequest)
    }

    @Test("§4.2.1 item 2: a request without Host gets 400")
    func missingHost() throws {
        let rejected = try #require(rejection(request(replacing: "Host")))
        #expect(rejected.status == .badRequest)
    }

    @Test(
        "§4.2.1 items 3-4: without Upgrade: websocket and Connection: Upgrade, 426 names the protocol",
        arguments: [
            ("Upgrade", [] as [String]), ("Upgrade", ["h2c"]), ("Upgrade", ["websockets"]), ("Upgrade", [""]),
            ("Connection", []), ("Connection", ["keep-alive"]), ("Connection", ["close"]), ("Connection", ["upgrades"]),
            ("Connection", ["keep-alive", "close"]),
        ]
    )
    func upgradeRequired(header: String, values: [String]) throws {
        let rejected = try #require(rejection(request(replacing: header, with: values)))
        #expect(rejected.status == .upgradeRequired)
        #expect(rejected.headers[.upgrade] == "websocket")
        #expect(rejected.headers[.connection] == "Upgrade")
        #expect(rejected.error.code == .invalidHandshakeRequest)
    }

    @Test(
        "§4.2.1 items 3-4: tokens are case-insensitive list elements",
        arguments: [
            ("Upgrade", ["WebSocket"]), ("Upgrade", ["WEBSOCKET"]), ("Upgrade", ["h2c, websocket"]),
            ("Connection", ["upgrade"]), ("Connection", ["UPGRADE"]), ("Connection", ["keep-alive, Upgrade"]),
            ("Connection", ["Upgrade, keep-alive"]), ("Connection", ["keep-alive,upgrade"]),
            ("Connection", ["keep-alive", "Upgrade"]),  // two header lines
            ("Connection", [" \tUpgrade \t"]),
        ]
    )
    func caseInsensitiveTokens(header: String, values: [String]) {
        #expect(validated(request(replacing: header, with: values)) != nil)
    }

    @Test(
        "§4.2.2: a version other than 13 gets 426 with Sec-WebSocket-Version: 13",
        arguments: [[], ["8"], ["12"], ["14"], ["13, 8"], ["13", "13"], ["13", "8"], ["thirteen"], [""]] as [[String]]
    )
    func unsupportedVersion(values: [String]) throws {
        let rejected = try #require(rejection(request(replacing: "Sec-WebSocket-Version", with: values)))
        #expect(rejected.status == .upgradeRequired)
        #expect(rejected.headers[.secWebSocketVersion] == "13")
        #expect(rejected.error.code == .invalidHandshakeRequest)
    }

    @Test(
        "§4.2.1 item 5: a missing, invalid or duplicate Sec-WebSocket-Key gets 400",
        arguments: [
            [], [""], ["dGhlIHNhbXBsZSBub25jZQ="], ["dGhlIHNhbXBsZSBub25jZXg="], ["not base64 at all!!!!!!!"],
            ["dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ=="], ["dGhlIHNhbXBsZSBub25jZQ==, dGhlIHNhbXBsZSBub25jZQ=="],
            ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
        ] as [[String]]
    )
    func invalidKey(values: [String]) throws {
        let rejected = try #require(rejection(request(replacing: "Sec-WebSocket-Key", with: values)))
        #expect(rejected.status == .badRequest)
        #expect(rejected.error.code == .invalidHandshakeRequest)
    }

    @Test("header names are case-insensitive")
    func headerNameCase() {
        let lowercased = fields(rfcRequest.map { ($0.0.lowercased(), $0.1) })
        #expect(validated(lowercased)?.key == "dGhlIHNhbXBsZSBub25jZQ==")
    }

    @Test("§4.2.1 items 8-9: subprotocols from every header line, extension offers kept raw")
    func offers() throws {
        var headers = request(replacing: "Sec-WebSocket-Protocol", with: ["chat , superchat", "v2.json"])
        headers.append(HTTPField(name: .secWebSocketExtensions, value: "permessage-deflate; client_max_window_bits"))
        headers.append(HTTPField(name: .secWebSocketExtensions, value: "x-foo"))
        let request = try #require(validated(headers))
        #expect(request.offeredSubprotocols == ["chat", "superchat", "v2.json"])
        #expect(request.extensionOffers == ["permessage-deflate; client_max_window_bits", "x-foo"])
        #expect(validated(ServerHandshakeTests.withoutOptional())?.offeredSubprotocols == [])
    }

    static func withoutOptional() -> HTTPFields {
        fields(rfcRequest.filter { $0.0 != "Origin" && $0.0 != "Sec-WebSocket-Protocol" })
    }

    @Test("a request without Origin (a non-browser client) is valid")
    func noOrigin() {
        #expect(validated(Self.withoutOptional())?.origin == nil)
    }

    @Test("isUpgradeRequest tells a WebSocket request from plain HTTP")
    func isUpgradeRequest() {
        #expect(ServerHandshake.isUpgradeRequest(fields(rfcRequest)))
        #expect(ServerHandshake.isUpgradeRequest(fields([("Upgrade", "WebSocket")])))
        #expect(!ServerHandshake.isUpgradeRequest(fields([("Host", "a")])))
        #expect(!ServerHandshake.isUpgradeRequest(fields([("Upgrade", "h2c")])))
    }

    @Test("§4.2.2 item 5: the 101 response headers of the RFC example")
    func acceptHeaders() {
        let headers = ServerHandshake.acceptHeaders(key: "dGhlIHNhbXBsZSBub25jZQ==", subprotocol: "chat", extensions: "permessage-deflate")
        #expect(headers[.upgrade] == "websocket")
        #expect(headers[.connection] == "Upgrade")
        #expect(headers[.secWebSocketAccept] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(headers[.secWebSocketProtocol] == "chat")
        #expect(headers[.secWebSocketExtensions] == "permessage-deflate")
        let plain = ServerHandshake.acceptHeaders(key: "dGhlIHNhbXBsZSBub25jZQ==", subprotocol: nil, extensions: nil)
        #expect(plain.count == 3)
    }

    @Test("the server's accept headers satisfy the client's checks (both sides agree)")
    func serverAndClientAgree() throws {
        let client = ClientHandshake(host: "server.example.com", target: "/chat", subprotocols: ["chat"])
        let server = try #require(validated(request(replacing: "Sec-WebSocket-Key", with: [client.key])))
        let headers = ServerHandshake.acceptHeaders(key: server.key, subprotocol: "chat", extensions: nil)
        let negotiated = try client.validate(HTTPResponse(status: .switchingProtocols, headerFields: headers))
        #expect(negotiated.subprotocol == "chat")
    }
}
