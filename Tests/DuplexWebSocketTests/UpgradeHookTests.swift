import DuplexWebSocket
import DuplexWebSocketCore
import HTTPTypes
import NIOCore
import Testing

/// The router's upgrade hook: reject with any response, pass through to HTTP, add headers.
@Suite("Server upgrade hook", .timeLimit(.minutes(1)))
struct UpgradeHookTests {
    @Test(
        "A rejecting hook answers its response; the client sees handshakeRejected with that status",
        arguments: [(401, false), (503, true)]
    )
    func hookRejects(status: Int, retryable: Bool) async throws {
        try await withTimeout {
            var router = WebSocketRouter()
            router.webSocket(
                "/ws",
                shouldUpgrade: { _ in
                    var headers = HTTPFields()
                    headers[.wwwAuthenticate] = "Bearer"
                    return .reject(
                        HTTPServerResponse(status: .init(code: status), headers: headers, body: ByteBuffer(string: "go away \(status)")))
                },
                handler: { _ in Issue.record("the handler ran for a rejected upgrade") }
            )
            try await withServer(router: router) { server in
                let error = await connectError(to: server.url("/ws"))
                let failure = try expectError(error, ErrorContract(.handshakeRejected, .handshake, retryable: retryable))
                #expect(failure.response?.status.code == status)
                #expect(failure.response?.headerFields[.wwwAuthenticate] == "Bearer")
                #expect(failure.responseBody.map { String(decoding: $0, as: UTF8.self) } == "go away \(status)")

                // The raw exchange: the status and the body, as sent.
                let response = try await RawClient.withConnection(port: server.port) { connection in
                    try await connection.sendUpgradeRequestReadingBody(path: "/ws")
                }
                #expect(response?.status == status)
                #expect(response?.body == "go away \(status)")
            }
        }
    }

    @Test("A hook that passes through hands the request to the HTTP route")
    func hookPassesThrough() async throws {
        try await withTimeout {
            var router = WebSocketRouter()
            router.webSocket("/maybe", shouldUpgrade: { _ in .passThrough }, handler: { _ in Issue.record("upgraded") })
            router.http("/maybe") { request in
                HTTPServerResponse(status: .ok, text: "plain HTTP for \(request.head.headerFields[.upgrade] ?? "-")")
            }
            try await withServer(router: router) { server in
                let error = await connectError(to: server.url("/maybe"))
                let failure = try expectError(error, ErrorContract(.handshakeRejected, .handshake, retryable: false))
                #expect(failure.response?.status == .ok)
                #expect(failure.responseBody.map { String(decoding: $0, as: UTF8.self) } == "plain HTTP for websocket")
            }
        }
    }

    @Test("An accepting hook sees the request and adds headers to the 101 response")
    func hookAcceptsWithHeaders() async throws {
        try await withTimeout {
            var router = WebSocketRouter()
            router.webSocket(
                "/ws",
                shouldUpgrade: { request in
                    var headers = HTTPFields()
                    headers[HTTPField.Name("X-Seen-Token")!] = request.head.headerFields[.authorization] ?? "none"
                    return .accept(headers: headers)
                },
                handler: { connection in
                    try await connection.send(text: connection.request.headerFields[.authorization] ?? "none")
                }
            )
            try await withServer(router: router) { server in
                let configuration = WebSocketClientConfiguration.test { $0.headers[.authorization] = "Bearer t0ken" }
                try await WebSocketConnection.connect(to: server.url("/ws"), configuration: configuration, logger: .test) { connection in
                    #expect(connection.response.status == .switchingProtocols)
                    #expect(connection.response.headerFields[HTTPField.Name("X-Seen-Token")!] == "Bearer t0ken")
                    var messages = connection.messages.makeAsyncIterator()
                    let seen = try await messages.next()?.text
                    #expect(seen == "Bearer t0ken")
                }
            }
        }
    }
}

extension RawConnection {
    /// Sends an opening handshake and reads the whole response, body included.
    func sendUpgradeRequestReadingBody(path: String) async throws -> RawResponse? {
        try await write(
            "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: \(HandshakeKey.random())\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        return try await readResponse()
    }
}
