import HTTPTypes
import NIOCore
import Testing

@testable import DuplexWebSocketCore

private let key = "dGhlIHNhbXBsZSBub25jZQ=="
private let accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

private func response(
    _ status: Int = 101,
    _ pairs: [(HTTPField.Name, String)] = [(.upgrade, "websocket"), (.connection, "Upgrade"), (.secWebSocketAccept, accept)]
) -> HTTPResponse {
    var fields = HTTPFields()
    for (name, value) in pairs { fields.append(HTTPField(name: name, value: value)) }
    return HTTPResponse(status: .init(code: status), headerFields: fields)
}

/// The RFC response with `name` removed, or replaced by the given values.
private func response(replacing name: HTTPField.Name, with values: [String] = []) -> HTTPResponse {
    var pairs: [(HTTPField.Name, String)] = [(.upgrade, "websocket"), (.connection, "Upgrade"), (.secWebSocketAccept, accept)]
    pairs.removeAll { $0.0 == name }
    pairs += values.map { (name, $0) }
    return response(101, pairs)
}

private func validationError(_ handshake: ClientHandshake, _ response: HTTPResponse) -> WebSocketError? {
    do {
        _ = try handshake.validate(response)
        return nil
    } catch {
        return error
    }
}

@Suite("RFC 6455 §4.1: the client's opening handshake")
struct ClientHandshakeTests {
    let handshake = ClientHandshake(host: "server.example.com", target: "/chat", key: key)

    @Test("§4.1: the request head, byte for byte")
    func requestHead() {
        let expected =
            "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        #expect(String(buffer: handshake.requestHead()) == expected)
    }

    @Test("§4.1: subprotocols, the permessage-deflate offer and extra headers")
    func requestHeadWithOptions() {
        var headers = HTTPFields()
        headers[.origin] = "http://example.com"
        headers[.authorization] = "Bearer abc"
        let compression = PerMessageDeflateConfiguration()
        let handshake = ClientHandshake(
            host: "server.example.com:8080",
            target: "/chat?room=1",
            subprotocols: ["chat", "superchat"],
            compression: compression,
            headers: headers,
            key: key
        )
        let expected =
            "GET /chat?room=1 HTTP/1.1\r\nHost: server.example.com:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            + "Sec-WebSocket-Protocol: chat, superchat\r\n"
            + "Sec-WebSocket-Extensions: \(PerMessageDeflateNegotiation.clientOffer(compression))\r\n"
            + "Origin: http://example.com\r\nAuthorization: Bearer abc\r\n\r\n"
        #expect(String(buffer: handshake.requestHead()) == expected)
    }

    @Test("§4.1 item 3: an empty target is sent as /")
    func emptyTarget() {
        let handshake = ClientHandshake(host: "h", target: "", key: key)
        #expect(String(buffer: handshake.requestHead()).hasPrefix("GET / HTTP/1.1\r\n"))
    }

    @Test("§4.1 item 7: a fresh, valid key by default")
    func defaultKey() {
        let first = ClientHandshake(host: "h", target: "/")
        let second = ClientHandshake(host: "h", target: "/")
        #expect(HandshakeKey.isValid(first.key))
        #expect(first.key != second.key)
    }

    @Test("§4.1: the RFC's example response is accepted")
    func rfcResponse() throws {
        let negotiated = try handshake.validate(response())
        #expect(negotiated.subprotocol == nil)
        #expect(negotiated.compression == nil)
        #expect(negotiated.extensionsHeader == nil)
    }

    @Test(
        "§4.1: \"If the status code received from the server is not 101\" → handshakeRejected with the response",
        arguments: [100, 200, 204, 301, 302, 400, 401, 403, 404, 408, 426, 429, 500, 502, 503]
    )
    func non101(status: Int) throws {
        let rejected = response(status, [(.contentType, "text/plain")])
        let error = try #require(validationError(handshake, rejected))
        #expect(error.code == .handshakeRejected)
        #expect(error.response == rejected)
        #expect(error.isRetryable == (status >= 500 || status == 429 || status == 408))
    }

    @Test(
        "§4.1 item 2: Upgrade must be websocket (case-insensitive)",
        arguments: [([], false), (["h2c"], false), (["websockets"], false), ([""], false), (["WebSocket"], true), (["WEBSOCKET"], true)]
            as [([String], Bool)]
    )
    func upgradeHeader(values: [String], valid: Bool) {
        let error = validationError(handshake, response(replacing: .upgrade, with: values))
        #expect(error?.code == (valid ? nil : .invalidHandshakeResponse))
        if let error { #expect(error.response != nil) }
    }

    @Test(
        "§4.1 item 3: Connection must contain upgrade (case-insensitive token)",
        arguments: [
            ([], false), (["keep-alive"], false), (["close"], false), (["upgrades"], false),
            (["upgrade"], true), (["keep-alive, Upgrade"], true), (["keep-alive", "UPGRADE"], true),
        ] as [([String], Bool)]
    )
    func connectionHeader(values: [String], valid: Bool) {
        #expect(
            validationError(handshake, response(replacing: .connection, with: values))?.code == (valid ? nil : .invalidHandshakeResponse))
    }

    @Test(
        "§4.1 item 4: Sec-WebSocket-Accept must be base64(SHA-1(key + GUID))",
        arguments: [
            [], [""], ["s3pPLMBiTxaQ9kYGzzhZRbK+xOo"], ["S3PPLMBITXAQ9KYGZZHZRBK+XOO="], ["dGhlIHNhbXBsZSBub25jZQ=="],
            [accept, accept], ["\(accept), \(accept)"], [HandshakeKey.accept(for: "x3JJHMbDL1EzLkh9GBhXDw==")],
        ] as [[String]]
    )
    func wrongAccept(values: [String]) {
        let error = validationError(handshake, response(replacing: .secWebSocketAccept, with: values))
        #expect(error?.code == .invalidHandshakeResponse)
        // Not retryable: it is the server's response, not a server starting up.
        #expect(error?.isRetryable == false)
    }

    @Test("§4.1 item 6: a subprotocol the client offered is accepted; one it did not is negotiationFailed")
    func subprotocols() throws {
        let offering = ClientHandshake(host: "h", target: "/", subprotocols: ["chat", "superchat"], key: key)
        #expect(try offering.validate(response(replacing: .secWebSocketProtocol, with: ["superchat"])).subprotocol == "superchat")
        #expect(try offering.validate(response(replacing: .secWebSocketProtocol, with: [" chat "])).subprotocol == "chat")
        for values in [["other"], ["chat, superchat"], ["chat", "superchat"], ["Chat"], [""]] {
            let error = validationError(offering, response(replacing: .secWebSocketProtocol, with: values))
            #expect(error?.code == .negotiationFailed, "\(values)")
        }
        // A server that selects a subprotocol the client never offered.
        #expect(validationError(handshake, response(replacing: .secWebSocketProtocol, with: ["chat"]))?.code == .negotiationFailed)
    }

    @Test("§4.1 item 5: an extension the client did not offer is negotiationFailed")
    func extensions() throws {
        let error = validationError(handshake, response(replacing: .secWebSocketExtensions, with: ["permessage-deflate"]))
        #expect(error?.code == .negotiationFailed)
        #expect(error?.response != nil)

        let offering = ClientHandshake(host: "h", target: "/", compression: PerMessageDeflateConfiguration(), key: key)
        #expect(
            validationError(offering, response(replacing: .secWebSocketExtensions, with: ["x-webkit-deflate-frame"]))?.code
                == .negotiationFailed)
        let negotiated = try offering.validate(response(replacing: .secWebSocketExtensions, with: ["permessage-deflate"]))
        #expect(negotiated.compression == PerMessageDeflateParameters())
        #expect(negotiated.extensionsHeader == "permessage-deflate")
        // Accepting the offer is optional for the server.
        #expect(try offering.validate(response()).compression == nil)
    }
}
