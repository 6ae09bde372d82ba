import DuplexWebSocket
import DuplexWebSocketCore
import HTTPTypes
import NIOCore
import Testing

/// The server-side table of `Docs/Errors.md`: what the server answers to each malformed opening
/// handshake (RFC 6455 §4.2.1-4.2.2).
@Suite("Server error contract (Docs/Errors.md)", .timeLimit(.minutes(1)))
struct ServerErrorContractTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var request: String
        var status: Int
        /// Response headers that must be present, with their values.
        var headers: [String: String] = [:]
        /// Whether the server closes the connection after answering.
        var closes = true
        var testDescription: String { name }
    }

    static let key = "dGhlIHNhbXBsZSBub25jZQ=="
    static let upgradeHeaders = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"

    static let rows: [Row] = [
        Row(
            name: "§4.2.1 item 1: not GET → 405 with Allow: GET",
            request: "POST /echo HTTP/1.1\r\nHost: x\r\n\(upgradeHeaders)Sec-WebSocket-Key: \(key)\r\nContent-Length: 0\r\n\r\n",
            status: 405,
            headers: ["Allow": "GET"]
        ),
        Row(
            name: "§4.2.1 item 1: HTTP/1.0 → 400",
            request: "GET /echo HTTP/1.0\r\nHost: x\r\n\(upgradeHeaders)Sec-WebSocket-Key: \(key)\r\n\r\n",
            status: 400
        ),
        Row(
            name: "§4.2.1 item 2: no Host → 400",
            request: "GET /echo HTTP/1.1\r\n\(upgradeHeaders)Sec-WebSocket-Key: \(key)\r\n\r\n",
            status: 400
        ),
        Row(
            name: "§4.2.1 item 4: Upgrade without Connection: Upgrade → 426",
            request:
                "GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: \(key)\r\n\r\n",
            status: 426,
            headers: ["Upgrade": "websocket", "Sec-WebSocket-Version": "13"]
        ),
        Row(
            name: "§4.2.1 item 3: a WebSocket key without Upgrade → 426",
            request:
                "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: \(key)\r\n\r\n",
            status: 426,
            headers: ["Upgrade": "websocket", "Sec-WebSocket-Version": "13"]
        ),
        Row(
            name: "§4.2.2: unsupported Sec-WebSocket-Version → 426 with Sec-WebSocket-Version: 13",
            request:
                "GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: \(key)\r\n\r\n",
            status: 426,
            headers: ["Sec-WebSocket-Version": "13"]
        ),
        Row(
            name: "§4.2.1 item 5: no Sec-WebSocket-Key → 400",
            request: "GET /echo HTTP/1.1\r\nHost: x\r\n\(upgradeHeaders)\r\n",
            status: 400
        ),
        Row(
            name: "§4.2.1 item 5: a key that is not 16 base64-encoded bytes → 400",
            request: "GET /echo HTTP/1.1\r\nHost: x\r\n\(upgradeHeaders)Sec-WebSocket-Key: c2hvcnQ=\r\n\r\n",
            status: 400
        ),
        Row(
            name: "§4.2.1 item 5: two keys → 400",
            request: "GET /echo HTTP/1.1\r\nHost: x\r\n\(upgradeHeaders)Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Key: \(key)\r\n\r\n",
            status: 400
        ),
        Row(
            name: "RFC 7692 §5: a malformed Sec-WebSocket-Extensions → 400",
            request:
                "GET /echo HTTP/1.1\r\nHost: x\r\n\(upgradeHeaders)Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Extensions: permessage-deflate; =\r\n\r\n",
            status: 400
        ),
        Row(
            name: "RFC 9112 §2.2: not HTTP → 400",
            request: "HELLO THERE\r\n\r\n",
            status: 400
        ),
        Row(
            name: "an upgrade to a path without a WebSocket route → 404",
            request: "GET /elsewhere HTTP/1.1\r\nHost: x\r\n\(upgradeHeaders)Sec-WebSocket-Key: \(key)\r\n\r\n",
            status: 404
        ),
        Row(
            name: "RFC 9110 §15.5.22: a WebSocket path without Upgrade → 426 with Sec-WebSocket-Version: 13",
            request: "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n",
            status: 426,
            headers: ["Upgrade": "websocket", "Sec-WebSocket-Version": "13"],
            // A plain request: the connection stays open for the next one.
            closes: false
        ),
    ]

    @Test("A malformed opening handshake gets the documented status", arguments: rows)
    func malformedRequest(row: Row) async throws {
        try await withTimeout {
            try await withServer(router: echoRouter()) { server in
                let response = try #require(try await RawClient.exchange(port: server.port, row.request))
                #expect(response.status == row.status)
                #expect((response.header("Connection")?.lowercased() == "close") == row.closes)
                for (name, value) in row.headers {
                    #expect(response.header(name) == value, "\(name)")
                }
            }
        }
    }

    @Test("Origin not in the allow-list → 403; listed origins and non-browser clients are accepted")
    func originAllowList() async throws {
        try await withTimeout {
            let configuration = WebSocketServerConfiguration.test {
                $0.origins = .allowList(["https://good.example"])
            }
            try await withServer(configuration, router: echoRouter()) { server in
                let evil = WebSocketClientConfiguration.test { $0.headers[.origin] = "https://evil.example" }
                let error = await connectError(to: server.url("/echo"), configuration: evil)
                let failure = try expectError(error, ErrorContract(.handshakeRejected, .handshake, retryable: false))
                #expect(failure.response?.status == .forbidden)

                for origin in ["https://good.example", "HTTPS://GOOD.EXAMPLE", nil] {
                    let client = WebSocketClientConfiguration.test { $0.headers[.origin] = origin }
                    try await WebSocketConnection.connect(to: server.url("/echo"), configuration: client, logger: .test) { _ in }
                }
            }
        }
    }

    @Test(
        "RFC 6585 §5: a request head over the limits → 431",
        arguments: [
            ("20 KiB header", "X-Big: " + String(repeating: "a", count: 20 * 1024) + "\r\n"),
            ("150 header fields", (0..<150).map { "X-Field-\($0): v\r\n" }.joined()),
        ]
    )
    func requestHeadTooLarge(name: String, headers: String) async throws {
        try await withTimeout {
            try await withServer(router: echoRouter()) { server in
                let upgrade = "GET /echo HTTP/1.1\r\nHost: x\r\n\(Self.upgradeHeaders)Sec-WebSocket-Key: \(Self.key)\r\n\(headers)\r\n"
                let response = try await RawClient.exchange(port: server.port, upgrade)
                #expect(response?.status == 431, "\(name)")
                let plain = try await RawClient.exchange(port: server.port, "GET /health HTTP/1.1\r\nHost: x\r\n\(headers)\r\n")
                #expect(plain?.status == 431, "\(name)")
            }
        }
    }

    @Test("RFC 9110 §15.5.14: a request body over maxRequestBodySize → 413")
    func bodyTooLarge() async throws {
        try await withTimeout {
            var router = WebSocketRouter()
            router.http("/upload") { request in HTTPServerResponse(status: .ok, text: "\(request.body.readableBytes)") }
            try await withServer(.test { $0.maxRequestBodySize = 1024 }, router: router) { server in
                let accepted = try await RawClient.exchange(
                    port: server.port,
                    "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\n\r\n" + String(repeating: "a", count: 1024)
                )
                #expect(accepted?.status == 200)
                #expect(accepted?.body == "1024")
                let rejected = try await RawClient.exchange(
                    port: server.port,
                    "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n" + String(repeating: "a", count: 4096)
                )
                #expect(rejected?.status == 413)
            }
        }
    }

    @Test("Slowloris: a client that sends a partial head is closed after handshakeTimeout")
    func slowloris() async throws {
        try await withTimeout {
            try await withServer(.test { $0.handshakeTimeout = .milliseconds(300) }, router: echoRouter()) { server in
                let start = ContinuousClock.now
                let received = try await RawClient.withConnection(port: server.port) { connection in
                    try await connection.write("GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
                    return await connection.readToEnd().bytes
                }
                let elapsed = ContinuousClock.now - start
                #expect(received.readableBytes == 0)
                #expect(elapsed >= .milliseconds(300))
                #expect(elapsed < .seconds(15), "the head timeout was not enforced: \(elapsed)")
            }
        }
    }

    @Test("The head timeout also bounds the idle time between keep-alive requests")
    func idleKeepAliveTimeout() async throws {
        try await withTimeout {
            var router = WebSocketRouter()
            router.http("/health") { _ in HTTPServerResponse(status: .ok, text: "ok") }
            // Long enough for the first request to be served on a busy machine.
            try await withServer(.test { $0.handshakeTimeout = .seconds(2) }, router: router) { server in
                try await RawClient.withConnection(port: server.port) { connection in
                    try await connection.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                    #expect(try await connection.readResponse()?.status == 200)
                    let (rest, _) = await connection.readToEnd()
                    #expect(rest.readableBytes == 0)
                    #expect(connection.sawEndOfStream)
                }
            }
        }
    }
}
