import DuplexEngineIO
import DuplexWebSocket
import Testing

/// protocol.md 4.1.6 Heartbeat (v4): the server pings, the client pongs within pingTimeout.
@Suite("protocol.md 4.1.6 Heartbeat", .timeLimit(.minutes(1)))
struct EngineIOServerHeartbeatTests {
    // A short interval for a test; a timeout long enough for a loaded machine (the whole suite
    // runs in parallel on 2 cores) to answer in time.
    static let fast = EngineIOServerConfiguration(pingInterval: .milliseconds(300), pingTimeout: .seconds(10))

    @Test("over polling: ping in a GET, pong in a POST; no pong closes the session with ping timeout")
    func pollingHeartbeat() async throws {
        try await EngineIOServerFixture.run(Self.fast, mode: .manual) { server in
            let (sid, _) = try await server.openPollingSession()
            let socket = try await server.socket(sid)
            #expect(try await server.poll(sid).packets == ["2"])
            let pong = try await server.send(sid, ["3"])
            #expect(pong.status == 200, "\(pong.text)")
            #expect(try await server.poll(sid).packets == ["2"])
            // No pong this time.
            #expect(await socket.waitUntilClosed() == .pingTimeout)
            let after = try await server.poll(sid)
            #expect(after.status == 400)
            #expect(after.text == #"{"code":1,"message":"Session ID unknown"}"#)
        }
    }

    @Test("a pending GET gets close when the ping times out")
    func pendingGetGetsClose() async throws {
        try await EngineIOServerFixture.run(Self.fast, mode: .manual) { server in
            let (sid, _) = try await server.openPollingSession()
            #expect(try await server.poll(sid).packets == ["2"])
            #expect(try await server.poll(sid).packets == ["1"])
        }
    }

    @Test("over WebSocket: answered pings keep the session, an unanswered one closes the WebSocket")
    func webSocketHeartbeat() async throws {
        try await EngineIOServerFixture.run(Self.fast, mode: .manual) { server in
            try await server.withWebSocket("EIO=4&transport=websocket") { webSocket in
                var messages = webSocket.messages.makeAsyncIterator()
                let open = try #require(try await messages.nextText())
                let sid = try EngineIOHandshake(json: String(open.dropFirst())).sid
                let socket = try await server.socket(sid)
                for _ in 0..<3 {
                    #expect(try await messages.nextText() == "2")
                    try await webSocket.send(text: "3")
                }
                #expect(try await messages.nextText() == "2")
                #expect(await socket.waitUntilClosed() == .pingTimeout)
                let next = try? await messages.next()
                #expect(next == nil)
            }
        }
    }

    @Test("a ping from a v4 client is a protocol error that closes the session")
    func pingFromClient() async throws {
        try await EngineIOServerFixture.run(mode: .manual) { server in
            let (sid, _) = try await server.openPollingSession()
            let socket = try await server.socket(sid)
            _ = try await server.send(sid, ["2"])
            #expect(await socket.waitUntilClosed() == .transportError)
            #expect(try await server.poll(sid).status == 400)
        }
    }
}
