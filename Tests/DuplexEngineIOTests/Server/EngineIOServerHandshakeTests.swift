import DuplexEngineIO
import DuplexWebSocket
import DuplexWebSocketCore
import HTTPTypes
import Logging
import Testing

/// protocol.md 4.1.3 Handshake, 4.1.1 endpoint, and the handshake options (cookie, CORS,
/// allowRequest).
@Suite("protocol.md 4.1.3 Handshake", .timeLimit(.minutes(1)))
struct EngineIOServerHandshakeTests {
    @Test("a polling handshake answers the open packet with the reference defaults")
    func pollingHandshake() async throws {
        try await EngineIOServerFixture.run { server in
            let response = try await server.get("EIO=4&transport=polling&t=abc")
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "text/plain; charset=UTF-8")
            #expect(response.header("Set-Cookie") == nil)
            #expect(response.header("Access-Control-Allow-Origin") == nil)
            #expect(response.packets.count == 1)
            let text = response.text
            #expect(text.hasPrefix("0{\"sid\":\""))
            let handshake = try EngineIOHandshake(json: String(text.dropFirst()))
            #expect(handshake.sid.utf8.count == 20)
            #expect(handshake.upgrades == [.websocket])
            #expect(handshake.pingInterval == .seconds(25))
            #expect(handshake.pingTimeout == .seconds(20))
            #expect(handshake.maxPayload == 1_000_000)
            #expect(text.hasSuffix(#","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#))
        }
    }

    @Test("the handshake announces the configured intervals and upgrades")
    func configuredHandshake() async throws {
        let configuration = EngineIOServerConfiguration(
            pingInterval: .milliseconds(1500),
            pingTimeout: .milliseconds(700),
            maxHttpBufferSize: 5000,
            allowUpgrades: false
        )
        try await EngineIOServerFixture.run(configuration) { server in
            let (_, handshake) = try await server.openPollingSession()
            #expect(handshake.upgrades == [])
            #expect(handshake.pingInterval == .milliseconds(1500))
            #expect(handshake.pingTimeout == .milliseconds(700))
            #expect(handshake.maxPayload == 5000)
        }
    }

    @Test("the endpoint answers with and without the trailing slash", arguments: ["/engine.io/", "/engine.io"])
    func trailingSlash(_ path: String) async throws {
        try await EngineIOServerFixture.run { server in
            let response = try await LoopbackHTTP.request("GET", "\(path)?EIO=4&transport=polling", port: server.port)
            #expect(response.status == 200)
            #expect(response.text.hasPrefix("0{"))
        }
    }

    @Test("a sub-path mount serves polling and WebSocket")
    func subPath() async throws {
        try await EngineIOServerFixture.run(path: "/api/realtime/") { server in
            let (sid, _) = try await server.openPollingSession()
            #expect(try await server.send(sid, ["4hi"]).status == 200)
            #expect(try await server.collect(sid, count: 1) == ["4hi"])
            let first = try await server.withWebSocket("EIO=4&transport=websocket") { webSocket in
                var messages = webSocket.messages.makeAsyncIterator()
                return try await messages.nextText()
            }
            #expect(first?.hasPrefix("0{") == true)
        }
    }

    @Test("a WebSocket-only session gets open as the first message, with no upgrades")
    func webSocketHandshake() async throws {
        try await EngineIOServerFixture.run { server in
            try await server.withWebSocket("EIO=4&transport=websocket") { webSocket in
                var messages = webSocket.messages.makeAsyncIterator()
                let open = try #require(try await messages.nextText())
                #expect(open.hasPrefix("0{"))
                let handshake = try EngineIOHandshake(json: String(open.dropFirst()))
                #expect(handshake.upgrades == [])
                let socket = try await server.socket(handshake.sid)
                #expect(socket.transport == .websocket)
                #expect(socket.request.transport == .websocket)
                try await webSocket.send(text: "4hello")
                #expect(try await messages.nextText() == "4hello")
                try await webSocket.send(.binary([1, 2, 3]))
                let echoed = try #require(try await messages.next())
                #expect(echoed.kind == .binary)
                #expect(echoed.bytes == [1, 2, 3])
            }
        }
    }

    @Test("the session cookie is set when configured")
    func cookie() async throws {
        try await EngineIOServerFixture.run(EngineIOServerConfiguration(cookie: EngineIOCookie())) { server in
            let response = try await server.get("EIO=4&transport=polling")
            let handshake = try EngineIOHandshake(json: String(response.text.dropFirst()))
            #expect(response.header("Set-Cookie") == "io=\(handshake.sid); Path=/; HttpOnly; SameSite=Lax")
        }
    }

    @Test("allowRequest can refuse a handshake with its status and message")
    func allowRequestRefuses() async throws {
        let configuration = EngineIOServerConfiguration(allowRequest: { request in
            request.queryValue("token") == "secret" ? .allow : .refuse(status: .unauthorized, message: "bad \"token\"")
        })
        try await EngineIOServerFixture.run(configuration) { server in
            let refused = try await server.get("EIO=4&transport=polling&token=nope")
            #expect(refused.status == 401)
            #expect(refused.text == #"{"code":4,"message":"bad \"token\""}"#)
            let allowed = try await server.get("EIO=4&transport=polling&token=secret")
            #expect(allowed.status == 200)

            await #expect {
                try await server.withWebSocket("EIO=4&transport=websocket&token=nope") { _ in }
            } throws: { error in
                let error = try #require(error as? WebSocketError)
                return error.code == .handshakeRejected && error.response?.status.code == 401
            }
            let open = try await server.withWebSocket("EIO=4&transport=websocket&token=secret") { webSocket in
                var messages = webSocket.messages.makeAsyncIterator()
                return try await messages.nextText()
            }
            #expect(open?.hasPrefix("0{") == true)
        }
    }

    @Test("CORS: preflight, allowed origin headers, credentials")
    func cors() async throws {
        let configuration = EngineIOServerConfiguration(
            cors: .allowList(["https://app.example"], allowsCredentials: true, preflightMaxAge: .seconds(600))
        )
        try await EngineIOServerFixture.run(configuration) { server in
            let preflight = try await LoopbackHTTP.request(
                "OPTIONS",
                "\(server.path)?EIO=4&transport=polling",
                port: server.port,
                headers: [("Origin", "https://app.example"), ("Access-Control-Request-Headers", "content-type")]
            )
            #expect(preflight.status == 204)
            #expect(preflight.header("Access-Control-Allow-Origin") == "https://app.example")
            #expect(preflight.header("Access-Control-Allow-Methods") == "GET, POST, OPTIONS")
            #expect(preflight.header("Access-Control-Allow-Headers") == "content-type")
            #expect(preflight.header("Access-Control-Allow-Credentials") == "true")
            #expect(preflight.header("Access-Control-Max-Age") == "600")

            let (sid, _) = try await server.openPollingSession(headers: [("Origin", "https://app.example")])
            let post = try await server.post(
                "EIO=4&transport=polling&sid=\(sid)",
                body: Array("4x".utf8),
                headers: [("Origin", "https://app.example")]
            )
            #expect(post.status == 200)
            #expect(post.header("Access-Control-Allow-Origin") == "https://app.example")
            #expect(post.text == "ok")

            // Non-browser clients send no Origin and are served.
            #expect(try await server.get("EIO=4&transport=polling").status == 200)
            // A WebSocket from a foreign origin is refused before the 101.
            await #expect {
                try await WebSocketConnection.connect(
                    to: server.webSocketURL("EIO=4&transport=websocket"),
                    configuration: WebSocketClientConfiguration(headers: [.origin: "https://evil.example"], compression: nil)
                ) { _ in }
            } throws: { error in
                (error as? WebSocketError)?.response?.status.code == 403
            }
        }
    }

    @Test("allowAll echoes any origin")
    func corsAllowAll() async throws {
        try await EngineIOServerFixture.run(EngineIOServerConfiguration(cors: .allowAll())) { server in
            let response = try await server.get("EIO=4&transport=polling", headers: [("Origin", "http://anything.test")])
            #expect(response.status == 200)
            #expect(response.header("Access-Control-Allow-Origin") == "http://anything.test")
            #expect(response.header("Access-Control-Allow-Credentials") == nil)
        }
    }

    @Test(
        "an invalid configuration is refused",
        arguments: [
            EngineIOServerConfiguration(pingInterval: .zero),
            EngineIOServerConfiguration(maxPacketsPerPoll: 0),
            EngineIOServerConfiguration(transports: []),
            EngineIOServerConfiguration(transports: [EngineIOTransport(rawValue: "webtransport")]),
        ])
    func invalidConfiguration(_ configuration: EngineIOServerConfiguration) {
        #expect {
            _ = try EngineIOServer(configuration: configuration, logger: .init(label: "test"))
        } throws: { error in
            (error as? EngineIOError)?.code == .invalidConfiguration
        }
    }
}
