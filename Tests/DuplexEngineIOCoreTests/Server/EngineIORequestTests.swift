import DuplexEngineIOCore
import NIOCore
import Testing

private let upgradeHeaders: [(name: String, value: String)] = [("Connection", "Upgrade"), ("Upgrade", "websocket")]

private func makeRequest(
    _ method: String,
    _ target: String,
    headers: [(name: String, value: String)] = []
) throws -> EngineIORequest {
    try EngineIORequest(method: method, target: target, headers: headers)
}

@Suite("protocol.md 4.1.1 Endpoint and query string: request classification")
struct EngineIORequestTests {
    static let sid = "lv_VI97HAXpY6yYWAAAC"
    static var id: EngineIOSessionID { EngineIOSessionID(rawValue: sid)! }

    enum Expected: Sendable {
        case success(EngineIORequestKind)
        case failure(EngineIOError.Code)
    }

    struct Row: Sendable, CustomTestStringConvertible {
        var method: String
        var target: String
        var isUpgrade = false
        var allowsEIO3 = false
        var expected: Expected
        var testDescription: String { "\(method) \(target)\(isUpgrade ? " [upgrade]" : "")" }
    }

    static let rows: [Row] = [
        Row(
            method: "GET",
            target: "/engine.io/?EIO=4&transport=polling&t=N8hyd6w",
            expected: .success(.handshake(transport: .polling, protocolVersion: .v4))
        ),
        Row(
            method: "GET",
            target: "/engine.io/?EIO=4&transport=websocket",
            isUpgrade: true,
            expected: .success(.handshake(transport: .websocket, protocolVersion: .v4))
        ),
        Row(
            method: "GET",
            target: "/engine.io/?EIO=4&transport=polling&sid=\(sid)",
            expected: .success(.poll(sid: id))
        ),
        Row(
            method: "POST",
            target: "/engine.io/?EIO=4&transport=polling&sid=\(sid)",
            expected: .success(.post(sid: id))
        ),
        Row(
            method: "GET",
            target: "/engine.io/?EIO=4&transport=websocket&sid=\(sid)",
            isUpgrade: true,
            expected: .success(.upgrade(sid: id))
        ),
        Row(method: "OPTIONS", target: "/engine.io/?EIO=4&transport=polling", expected: .success(.preflight)),
        // Code 0: transport unknown.
        Row(method: "GET", target: "/engine.io/?EIO=4", expected: .failure(.transportUnknown)),
        Row(method: "GET", target: "/engine.io/?EIO=4&transport=flash", expected: .failure(.transportUnknown)),
        Row(method: "GET", target: "/engine.io/?EIO=4&transport=webtransport", expected: .failure(.transportUnknown)),
        Row(
            method: "GET",
            target: "/engine.io/?EIO=4&transport=polling&transport=websocket",
            expected: .failure(.transportUnknown)
        ),
        // Code 1: malformed sid (unknown sids are the session table's business).
        Row(
            method: "GET",
            target: "/engine.io/?EIO=4&transport=polling&sid=a%2Fb",
            expected: .failure(.sessionIdUnknown)
        ),
        // Code 2: handshake not a GET.
        Row(method: "POST", target: "/engine.io/?EIO=4&transport=polling", expected: .failure(.badHandshakeMethod)),
        Row(method: "PUT", target: "/engine.io/?EIO=3&transport=polling", expected: .failure(.badHandshakeMethod)),
        // Code 3: bad request.
        Row(method: "GET", target: "/engine.io/?EIO=4&transport=websocket", expected: .failure(.badRequest)),
        Row(method: "GET", target: "/engine.io/?EIO=4&transport=websocket&sid=\(sid)", expected: .failure(.badRequest)),
        Row(
            method: "GET",
            target: "/engine.io/?EIO=4&transport=polling&sid=\(sid)",
            isUpgrade: true,
            expected: .failure(.badRequest)
        ),
        Row(
            method: "GET",
            target: "/engine.io/?EIO=4&transport=polling",
            isUpgrade: true,
            expected: .failure(.badRequest)
        ),
        Row(
            method: "DELETE",
            target: "/engine.io/?EIO=4&transport=polling&sid=\(sid)",
            expected: .failure(.badRequest)
        ),
        Row(
            method: "GET",
            target: "/engine.io/?EIO=4&transport=polling&sid=\(sid)&sid=other",
            expected: .failure(.badRequest)
        ),
        Row(
            method: "GET",
            target: "/engine.io/?EIO=3&transport=polling&j=x",
            allowsEIO3: true,
            expected: .failure(.badRequest)
        ),
        // Code 5: protocol version.
        Row(method: "GET", target: "/engine.io/?transport=polling", expected: .failure(.unsupportedProtocolVersion)),
        Row(
            method: "GET",
            target: "/engine.io/?EIO=3&transport=polling",
            expected: .failure(.unsupportedProtocolVersion)
        ),
        Row(
            method: "GET",
            target: "/engine.io/?EIO=5&transport=polling",
            allowsEIO3: true,
            expected: .failure(.unsupportedProtocolVersion)
        ),
        Row(
            method: "GET",
            target: "/engine.io/?EIO=4&EIO=4&transport=polling",
            expected: .failure(.unsupportedProtocolVersion)
        ),
        Row(
            method: "GET",
            target: "/engine.io/?EIO=3&transport=polling&j=0",
            allowsEIO3: true,
            expected: .success(.handshake(transport: .polling, protocolVersion: .v3))
        ),
        Row(
            method: "GET",
            target: "/socket.io/?EIO=3&transport=websocket",
            isUpgrade: true,
            allowsEIO3: true,
            expected: .success(.handshake(transport: .websocket, protocolVersion: .v3))
        ),
    ]

    @Test("4.1.1 classification and error codes (ref impl verify/handshake)", arguments: rows)
    func classify(_ row: Row) throws {
        let request = try makeRequest(row.method, row.target, headers: row.isUpgrade ? upgradeHeaders : [])
        switch row.expected {
        case .success(let kind):
            #expect(try request.classify(allowsEIO3: row.allowsEIO3) == kind)
        case .failure(let code):
            expectCode(code) { _ = try request.classify(allowsEIO3: row.allowsEIO3) }
        }
    }

    @Test("4.1.1 a transport the server disabled is unknown (code 0)")
    func disabledTransport() throws {
        let request = try makeRequest("GET", "/engine.io/?EIO=4&transport=websocket", headers: upgradeHeaders)
        expectCode(.transportUnknown) { _ = try request.classify(transports: [.polling]) }
    }

    @Test("4.1.1 (ref impl) an Origin with invalid header characters is a bad request (code 3)")
    func invalidOrigin() throws {
        let request = try makeRequest(
            "GET",
            "/engine.io/?EIO=4&transport=polling",
            headers: [("Origin", "http://a\u{0}b")]
        )
        expectCode(.badRequest) { _ = try request.classify() }
        let valid = try makeRequest(
            "GET",
            "/engine.io/?EIO=4&transport=polling",
            headers: [("origin", "http://é.example")]
        )
        #expect(try valid.classify() == .handshake(transport: .polling, protocolVersion: .v4))
    }

    @Test("Query strings are percent-decoded; `+` is a space; malformed escapes are bad requests")
    func queryParsing() throws {
        let request = try makeRequest("GET", "/p?a=1%202&b=x+y&c&=v&d=%C3%A9#frag")
        #expect(request.path == "/p")
        #expect(request.queryItems.map(\.name) == ["a", "b", "c", "", "d"])
        #expect(request.queryValue("a") == "1 2")
        #expect(request.queryValue("b") == "x y")
        #expect(request.queryValue("c") == "")
        #expect(request.queryValue("d") == "é")
        expectCode(.badRequest) { _ = try makeRequest("GET", "/p?a=%4") }
        expectCode(.badRequest) { _ = try makeRequest("GET", "/p?a=%zz") }
        expectCode(.badRequest) { _ = try makeRequest("GET", "/p?a=%FF") }
        #expect(try makeRequest("GET", "/p").queryItems.isEmpty)
    }

    @Test("4.1.9 v3 polling flavours come from `j` and `b64`")
    func pollingFormat() throws {
        #expect(try makeRequest("GET", "/?EIO=4&transport=polling&b64=1").pollingFormat == .v4)
        #expect(try makeRequest("GET", "/?EIO=3&transport=polling").pollingFormat == .v3Binary)
        #expect(try makeRequest("GET", "/?EIO=3&transport=polling&b64=1").pollingFormat == .v3Base64)
        #expect(try makeRequest("GET", "/?EIO=3&transport=polling&j=2").pollingFormat == .v3JSONP(index: 2))
    }

    @Test("Header lookup is case-insensitive; the Upgrade header may list several tokens")
    func headers() throws {
        let request = try makeRequest("GET", "/", headers: [("UPGRADE", "h2c, WebSocket")])
        #expect(request.isWebSocketUpgrade)
        #expect(request.headerValue("upgrade") == "h2c, WebSocket")
        #expect(try !makeRequest("GET", "/").isWebSocketUpgrade)
    }
}
