import DuplexEngineIO
import DuplexWebSocket
import DuplexWebSocketCore
import HTTPTypes
import Testing

/// DESIGN.md, "What users were bitten by", 2: a legitimate upgrade is never refused, whatever
/// the deployment: path with or without trailing slash, sub-path, browser origin with CORS,
/// reverse-proxy headers, cookie, an allowRequest hook.
@Suite("Legitimate upgrades in every deployment mode", .timeLimit(.minutes(1)))
struct EngineIOServerDeploymentTests {
    struct Mode: Sendable, CustomStringConvertible {
        var description: String
        var mountPath: String
        var requestPath: String
        var headers: [(String, String)] = []
        var configuration = EngineIOServerConfiguration()
    }

    static let proxyHeaders = [
        ("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "chat.example"),
        ("Forwarded", "for=203.0.113.7;proto=https;host=chat.example"), ("Via", "1.1 nginx"),
    ]

    static let modes: [Mode] = [
        Mode(description: "standalone", mountPath: "/engine.io/", requestPath: "/engine.io/"),
        Mode(description: "no trailing slash", mountPath: "/engine.io/", requestPath: "/engine.io"),
        Mode(description: "sub-path", mountPath: "/app/v2/realtime/", requestPath: "/app/v2/realtime/"),
        Mode(description: "Socket.IO path", mountPath: "/socket.io/", requestPath: "/socket.io/"),
        Mode(
            description: "browser origin with CORS",
            mountPath: "/engine.io/",
            requestPath: "/engine.io/",
            headers: [("Origin", "https://app.example")],
            configuration: EngineIOServerConfiguration(cors: .allowList(["https://app.example"], allowsCredentials: true))
        ),
        Mode(description: "behind a reverse proxy", mountPath: "/engine.io/", requestPath: "/engine.io/", headers: proxyHeaders),
        Mode(
            description: "cookie and allowRequest",
            mountPath: "/engine.io/",
            requestPath: "/engine.io/",
            headers: [("Cookie", "io=stale; other=1"), ("Authorization", "Bearer t")],
            configuration: EngineIOServerConfiguration(
                cookie: EngineIOCookie(),
                allowRequest: { request in
                    request.head.headerFields[.authorization] == "Bearer t" ? .allow : .refuse()
                }
            )
        ),
    ]

    @Test(arguments: modes)
    func legitimateUpgradeSucceeds(_ mode: Mode) async throws {
        try await EngineIOServerFixture.run(mode.configuration, path: mode.mountPath) { server in
            let handshake = try await LoopbackHTTP.request(
                "GET",
                "\(mode.requestPath)?EIO=4&transport=polling&t=N8hyd6w",
                port: server.port,
                headers: mode.headers
            )
            #expect(handshake.status == 200)
            let sid = try EngineIOHandshake(json: String(handshake.text.dropFirst())).sid
            var headers = HTTPFields()
            for (name, value) in mode.headers {
                if let name = HTTPField.Name(name) { headers.append(HTTPField(name: name, value: value)) }
            }
            let url = "ws://127.0.0.1:\(server.port)\(mode.requestPath)?EIO=4&transport=websocket&sid=\(sid)&t=N8hyd7a"
            try await WebSocketConnection.connect(
                to: url,
                configuration: WebSocketClientConfiguration(headers: headers, compression: nil)
            ) { webSocket in
                var messages = webSocket.messages.makeAsyncIterator()
                try await webSocket.send(text: "2probe")
                #expect(try await messages.nextText() == "3probe")
                try await webSocket.send(text: "5")
                try await webSocket.send(text: "4upgraded")
                #expect(try await messages.nextText() == "4upgraded")
                #expect(try await server.socket(sid).transport == .websocket)
            }
        }
    }
}

/// The application's side of the server: sessions, shutdown.
@Suite("EngineIOServer lifecycle", .timeLimit(.minutes(1)))
struct EngineIOServerLifecycleTests {
    @Test("shutdown closes polling and WebSocket sessions and ends the sessions sequence")
    func shutdown() async throws {
        try await EngineIOServerFixture.run(mode: .manual) { server in
            let (pollingSid, _) = try await server.openPollingSession()
            async let pending = server.poll(pollingSid)
            try await server.waitUntilPollIsPending(pollingSid)
            try await server.withWebSocket("EIO=4&transport=websocket") { webSocket in
                var messages = webSocket.messages.makeAsyncIterator()
                let open = try #require(try await messages.nextText())
                let webSocketSid = try EngineIOHandshake(json: String(open.dropFirst())).sid
                _ = try await server.socket(webSocketSid)
                #expect(server.engine.openSessions.count == 2)
                await server.engine.shutdown()
                #expect(try await messages.nextText() == "1")
                #expect(try await server.socket(webSocketSid).closeReason == .serverDisconnect)
            }
            #expect(try await pending.packets == ["1"])
            #expect(try await server.socket(pollingSid).closeReason == .serverDisconnect)
            #expect(server.engine.openSessions.isEmpty)
        }
    }

    @Test("a message sent as soon as the application gets the session follows the open packet")
    func greetingFollowsOpen() async throws {
        try await EngineIOServerFixture.run(mode: .greetThenEcho("welcome")) { server in
            try await server.withWebSocket("EIO=4&transport=websocket") { webSocket in
                var messages = webSocket.messages.makeAsyncIterator()
                let open = try await messages.nextText()
                let greeting = try await messages.nextText()
                #expect(open?.hasPrefix("0{") == true)
                #expect(greeting == "4welcome")
            }
            let handshake = try await server.get("EIO=4&transport=polling")
            var packets = handshake.packets
            #expect(packets.first?.hasPrefix("0{") == true)
            let sid = try EngineIOHandshake(json: String(packets.removeFirst().dropFirst())).sid
            if packets.isEmpty { packets = try await server.collect(sid, count: 1) }
            #expect(packets == ["4welcome"])
        }
    }
}
