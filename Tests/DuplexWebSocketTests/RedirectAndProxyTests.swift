import DuplexWebSocket
import DuplexWebSocketCore
import HTTPTypes
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// Redirects (RFC 9110 §15.4) and HTTP proxies (RFC 9110 §9.3.6 CONNECT) on the way to a
/// WebSocket server, with their rows of the error contract.
@Suite("Client redirects and proxies", .timeLimit(.minutes(1)))
struct RedirectAndProxyTests {
    /// The `Authorization` headers of the upgrade requests a server accepted.
    final class SeenAuthorizations: Sendable {
        private let values = Mutex<[String?]>([])
        var all: [String?] { values.withLock { $0 } }
        func append(_ value: String?) { values.withLock { $0.append(value) } }
    }

    /// A router that redirects `/old` to `location` and records the `Authorization` header of
    /// each other upgrade request.
    static func redirectingRouter(location: String?, seen: SeenAuthorizations? = nil) -> WebSocketRouter {
        var router = WebSocketRouter()
        router.webSocket(
            "*",
            shouldUpgrade: { request in
                if request.head.path == "/old", let location {
                    var headers = HTTPFields()
                    headers[.location] = location
                    return .reject(HTTPServerResponse(status: .found, headers: headers))
                }
                seen?.append(request.head.headerFields[.authorization])
                return .accept
            },
            handler: { connection in try await connection.send(text: connection.request.path ?? "") }
        )
        return router
    }

    @Test("RFC 9110 §15.4.3: a 302 is followed, and credentials are kept on the same origin")
    func redirectFollowed() async throws {
        try await withTimeout {
            let seen = SeenAuthorizations()
            try await withServer(router: Self.redirectingRouter(location: "/new", seen: seen)) { server in
                let configuration = WebSocketClientConfiguration.test { $0.headers[.authorization] = "Bearer secret" }
                let path = try await WebSocketConnection.connect(to: server.url("/old"), configuration: configuration, logger: .test) {
                    connection in
                    var messages = connection.messages.makeAsyncIterator()
                    return try await messages.next()?.text
                }
                #expect(path == "/new")
            }
            #expect(seen.all == ["Bearer secret"])
        }
    }

    @Test("A cross-origin redirect drops Authorization")
    func crossOriginRedirectDropsCredentials() async throws {
        try await withTimeout {
            let seen = SeenAuthorizations()
            try await withServer(router: Self.redirectingRouter(location: nil, seen: seen)) { target in
                try await withServer(router: Self.redirectingRouter(location: target.url("/new"))) { origin in
                    let configuration = WebSocketClientConfiguration.test { $0.headers[.authorization] = "Bearer secret" }
                    try await WebSocketConnection.connect(to: origin.url("/old"), configuration: configuration, logger: .test) { _ in }
                }
            }
            #expect(seen.all == [nil])
        }
    }

    @Test("More redirects than maxRedirects → tooManyRedirects")
    func tooManyRedirects() async throws {
        try await withTimeout(.seconds(90)) {
            let redirects = Counter()
            // Every request is redirected again: 1 request + 10 followed redirects, then the 11th fails.
            // The open timeout covers the whole chain: generous, so a loaded machine finishes it.
            let error = try await connectError(
                againstRawServer: { connection in
                    _ = try await connection.readHead()
                    let count = redirects.increment()
                    try await connection.write("HTTP/1.1 302 Found\r\nLocation: /loop/\(count)\r\nContent-Length: 0\r\n\r\n")
                    _ = await connection.readToEnd()
                },
                configuration: .test { $0.openTimeout = .seconds(60) }
            )
            let failure = try expectError(error, ErrorContract(.tooManyRedirects, .handshake, retryable: false))
            #expect(failure.response?.status.code == 302)
            #expect(redirects.current == 11)
        }
    }

    @Test("A tunnel through an HTTP proxy with CONNECT carries the WebSocket", arguments: [false, true])
    func proxyTunnel(secure: Bool) async throws {
        try await withTimeout {
            let proxy = ConnectProxy()
            let tls = secure ? try TestCertificates.serverTLS() : nil
            try await withServer(.test { $0.tls = tls }, router: echoRouter()) { server in
                try await proxy.run { proxyPort in
                    let configuration = WebSocketClientConfiguration.test {
                        $0.proxy = WebSocketProxy(host: "127.0.0.1", port: proxyPort, authorization: "Basic dXNlcjpwYXNz")
                        if secure, let tls = try? TestCertificates.clientTLS() { $0.tls = tls }
                    }
                    try await WebSocketConnection.connect(
                        to: server.url("/echo", secure: secure), configuration: configuration, logger: .test
                    ) {
                        connection in
                        try await connection.send(text: "through the tunnel")
                        var messages = connection.messages.makeAsyncIterator()
                        #expect(try await messages.next()?.text == "through the tunnel")
                    }
                }
            }
            let requests = proxy.requests
            #expect(requests.count == 1)
            #expect(requests.first?.hasPrefix("CONNECT 127.0.0.1:") == true)
            #expect(requests.first.flatMap { RawConnection.header("Proxy-Authorization", in: $0) } == "Basic dXNlcjpwYXNz")
        }
    }

    @Test(
        "A proxy that refuses CONNECT → proxyFailed with the response; 4xx is final (but 408, 429), 5xx retryable",
        arguments: [(407, false), (403, false), (408, true), (429, true), (502, true), (503, true)]
    )
    func proxyRefuses(status: Int, retryable: Bool) async throws {
        try await withTimeout {
            let proxy = ConnectProxy(
                refusal: "HTTP/1.1 \(status) Refused\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n"
            )
            let error = try await proxy.run { proxyPort in
                await connectError(
                    to: "ws://127.0.0.1:9/",
                    configuration: .test { $0.proxy = WebSocketProxy(host: "127.0.0.1", port: proxyPort) }
                )
            }
            let failure = try expectError(error, ErrorContract(.proxyFailed, .connection, retryable: retryable))
            #expect(failure.response?.status.code == status)
        }
    }

    @Test("connectReconnecting stops at a proxy's 407 and retries a proxy's 503", arguments: [(407, 1), (503, 3)])
    func reconnectingThroughRefusingProxy(status: Int, expectedAttempts: Int) async throws {
        try await withTimeout {
            let proxy = ConnectProxy(refusal: "HTTP/1.1 \(status) Refused\r\nContent-Length: 0\r\n\r\n")
            let error: (any Error)? = try await proxy.run { proxyPort in
                let policy = ReconnectPolicy(initialDelay: .milliseconds(1), maxDelay: .milliseconds(5), maxAttempts: 3)
                do {
                    try await WebSocketConnection.connectReconnecting(
                        to: "ws://127.0.0.1:9/",
                        configuration: .test { $0.proxy = WebSocketProxy(host: "127.0.0.1", port: proxyPort) },
                        policy: policy,
                        logger: .test
                    ) { _ in }
                    return nil
                } catch {
                    return error
                }
            }
            let failure = try expectError(error, ErrorContract(.proxyFailed, .connection, retryable: status == 503))
            #expect(failure.response?.status.code == status)
            #expect(proxy.requests.count == expectedAttempts)
        }
    }

    @Test("A proxy that is not listening → proxyFailed")
    func proxyUnreachable() async throws {
        try await withTimeout {
            let port = try await unusedPort()
            let error = await connectError(
                to: "ws://127.0.0.1:9/",
                configuration: .test { $0.proxy = WebSocketProxy(host: "127.0.0.1", port: port) }
            )
            try expectError(error, ErrorContract(.proxyFailed, .connection, retryable: true, cause: NIOConnectionError.self))
        }
    }
}
