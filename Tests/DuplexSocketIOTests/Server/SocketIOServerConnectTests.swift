import DuplexEngineIO
import DuplexSocketIO
import DuplexSocketIOCore
import NIOCore
import Testing

/// Connecting to namespaces (protocol.md 4.2.5), middlewares and refusals.
@Suite("Socket.IO server: connecting")
struct SocketIOServerConnectTests {
    @Test(
        "4.2.5: CONNECT is answered with a sid distinct from the Engine.IO sid; auth, headers and query reach the handlers",
        arguments: [EngineIOTransport.websocket, .polling])
    func connectAnswersSid(transport: EngineIOTransport) async throws {
        let handshakes = Recorder<SocketIOHandshake>()
        try await SocketIOServerFixture.run(configure: { io in
            io.sockets.onConnection { socket in handshakes.append(socket.handshake) }
        }) { fixture in
            try await fixture.withClient(transport: transport) { client in
                let reply = try await client.connect(auth: ["token": "123"])
                #expect(reply.type == .connect)
                #expect(reply.namespace == "/")
                let sid = try #require(reply.data?["sid"]?.stringValue)
                #expect(!sid.isEmpty)
                #expect(sid != client.socket.id)
                #expect(reply.data?["pid"] == nil)
                try await fixture.eventually("connection handler") { handshakes.count == 1 }
                let handshake = try #require(handshakes.all.first)
                #expect(handshake.auth == ["token": "123"])
                #expect(handshake.queryValue("EIO") == "4")
                #expect(handshake.url.hasPrefix("/socket.io/?"))
                #expect(handshake.address != nil)
                #expect(fixture.io.sockets.socket(id: sid) != nil)
            }
        }
    }

    @Test("4.2.5: an unknown namespace gets 44/random,{\"message\":\"Invalid namespace\"} and the session stays open")
    func unknownNamespace() async throws {
        try await SocketIOServerFixture.run { fixture in
            try await fixture.withClient { client in
                let reply = try await client.connect("/random")
                #expect(reply == .connectError(namespace: "/random", message: "Invalid namespace"))
                #expect(SocketIOPacketEncoder().encode(reply).text == "4/random,{\"message\":\"Invalid namespace\"}")
                // The session is still usable.
                let accepted = try await client.connect("/")
                #expect(accepted.type == .connect)
            }
        }
    }

    @Test("4.2.5: middlewares refuse with CONNECT_ERROR {message, data}; other errors hide their details")
    func middlewareRefusals() async throws {
        let order = Recorder<String>()
        try await SocketIOServerFixture.run(configure: { io in
            io.use { socket in
                order.append("server")
                if socket.handshake.auth?["token"] == nil {
                    throw SocketIOConnectionRefusal("Not authorized", data: ["code": 401])
                }
            }
            let admin = io.namespace("/admin")
            admin.use { _ in
                order.append("namespace")
                struct Internal: Error {}
                throw Internal()
            }
            io.namespace("/ok").use { _ in order.append("ok") }
        }) { fixture in
            try await fixture.withClient { client in
                let refused = try await client.connect("/")
                #expect(refused == .connectError(namespace: "/", message: "Not authorized", data: ["code": 401]))
                let hidden = try await client.connect("/admin", auth: ["token": "x"])
                #expect(hidden == .connectError(namespace: "/admin", message: "Connection refused"))
                let accepted = try await client.connect("/ok", auth: ["token": "x"])
                #expect(accepted.type == .connect)
                #expect(order.all == ["server", "server", "namespace", "server", "ok"])
            }
        }
    }

    @Test("4.2.5: several namespaces share one Engine.IO session")
    func multiplexing() async throws {
        try await SocketIOServerFixture.run(configure: { io in
            for name in ["/", "/custom"] {
                io.namespace(name).onConnection { socket in
                    socket.on("where") { event in event.ack(.string(event.socket.namespace.name)) }
                }
            }
        }) { fixture in
            try await fixture.withClient { client in
                let root = try await client.connect("/")
                let custom = try await client.connect("/custom")
                #expect(root.data?["sid"] != custom.data?["sid"])
                try await client.send(.event("where", namespace: "/custom", ackID: 1))
                try await client.send(.event("where", namespace: "/", ackID: 2))
                #expect(try await client.next() == .ack(["/custom"], namespace: "/custom", ackID: 1))
                #expect(try await client.next() == .ack(["/"], namespace: "/", ackID: 2))
            }
        }
    }

    @Test("Dynamic namespaces: a matching name creates a child that inherits the parent's middlewares and handlers")
    func dynamicNamespaces() async throws {
        let connected = Recorder<String>()
        try await SocketIOServerFixture.run(configure: { io in
            let parent = try? io.namespace(matchingPattern: "/dyn-[0-9]+")
            parent?.use { socket in
                if socket.handshake.auth?["deny"] != nil { throw SocketIOConnectionRefusal("denied") }
            }
            parent?.onConnection { socket in connected.append(socket.namespace.name) }
        }) { fixture in
            try await fixture.withClient { client in
                #expect(try await client.connect("/dyn-12").type == .connect)
                #expect(try await client.connect("/dyn-7", auth: ["deny": true]) == .connectError(namespace: "/dyn-7", message: "denied"))
                #expect(try await client.connect("/dyn-x") == .connectError(namespace: "/dyn-x", message: "Invalid namespace"))
                try await fixture.eventually("connection handler") { connected.count == 1 }
                #expect(connected.all == ["/dyn-12"])
                #expect(fixture.io.namespaces.map(\.name).contains("/dyn-12"))
            }
        }
    }

    @Test("connectTimeout: a session that joins no namespace in time is closed")
    func connectTimeout() async throws {
        // Seconds, not milliseconds: a loaded machine must still connect the second client in time.
        var configuration = SocketIOServerConfiguration(connectTimeout: .seconds(3))
        configuration.engine.pingInterval = .seconds(10)
        try await SocketIOServerFixture.run(configuration) { fixture in
            try await fixture.withClient { client in
                try await client.waitUntilEnded(within: .seconds(8))
            }
            // A session that connected in time stays open past the timeout.
            try await fixture.withClient { client in
                _ = try await client.connect()
                try await Task.sleep(for: .milliseconds(3500))
                #expect(!client.hasEnded)
            }
        }
    }
}
