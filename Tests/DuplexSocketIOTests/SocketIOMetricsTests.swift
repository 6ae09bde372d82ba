import DuplexEngineIO
import DuplexSocketIO
import DuplexSocketIOCore
import MetricsTestKit
import Testing

/// The Socket.IO metrics of `Docs/Metrics.md`, server and client, recorded into `TestMetrics`
/// factories passed in the configurations (no global bootstrap: the suites run in parallel),
/// over loopback with Duplex's own client.
@Suite("Socket.IO metrics (Docs/Metrics.md)", .timeLimit(.minutes(1)))
struct SocketIOMetricsTests {
    static let opened = "socketio.connections.opened"
    static let active = "socketio.connections.active"
    static let refused = "socketio.connections.refused"
    static let disconnects = "socketio.disconnects"
    static let events = "socketio.events"
    static let acks = "socketio.acks"
    static let recipients = "socketio.broadcast.recipients"
    static let invalid = "socketio.packets.invalid"
    static let recoveries = "socketio.recoveries"
    static let reconnectAttempts = "socketio.reconnect.attempts"

    static let server = ("role", "server")
    static let client = ("role", "client")
    static let received = ("direction", "received")
    static let sent = ("direction", "sent")

    static func reason(_ value: String) -> (String, String) { ("reason", value) }
    static func outcome(_ value: String) -> (String, String) { ("outcome", value) }

    /// The last value of the `socketio.connections.active` meter of `role` (nil if never set).
    static func activeConnections(_ metrics: TestMetrics, _ role: (String, String)) -> Double? {
        metrics.meters(label: active, dimensions: [role]).first?.lastValue
    }

    static func serverConfiguration(
        _ metrics: TestMetrics,
        configure: (inout SocketIOServerConfiguration) -> Void = { _ in }
    ) -> SocketIOServerConfiguration {
        var configuration = SocketIOServerConfiguration(metricsFactory: metrics)
        configure(&configuration)
        return configuration
    }

    static func clientConfiguration(_ metrics: TestMetrics) -> SocketIOClientConfiguration {
        .testing(.websocket) { $0.metricsFactory = metrics }
    }

    @Test("4.2.5, 4.2.7: accepted and refused CONNECTs, and disconnects by reason, on both sides")
    func connectRefuseDisconnect() async throws {
        let serverMetrics = TestMetrics()
        let clientMetrics = TestMetrics()
        let serverSockets = FakeQueue<SocketIOSocket>()
        try await SocketIOServerFixture.run(
            Self.serverConfiguration(serverMetrics),
            configure: { io in
                io.onConnection { serverSockets.push($0) }
                _ = io.namespace("/b")
                io.namespace("/private").use { _ in throw SocketIOConnectionRefusal("not allowed") }
            }
        ) { fixture in
            let manager = try SocketIOClientManager(
                url: "http://127.0.0.1:\(fixture.port)",
                configuration: Self.clientConfiguration(clientMetrics)
            )
            let root = try manager.socket()
            let rootDisconnects = FakeQueue<SocketIOClientDisconnectReason>()
            root.onDisconnect { rootDisconnects.push($0) }
            try await root.connect()
            try await manager.socket(namespace: "/b").connect()
            let serverRoot = try await serverSockets.expectNext()
            #expect(Self.activeConnections(serverMetrics, Self.server) == 2)
            #expect(Self.activeConnections(clientMetrics, Self.client) == 2)

            await #expect(throws: SocketIOError.self) { try await manager.socket(namespace: "/nope").connect() }
            await #expect(throws: SocketIOError.self) { try await manager.socket(namespace: "/private").connect() }

            // The server leaves `/` (DISCONNECT), then the client closes the manager (DISCONNECT
            // for `/b`, then the session closes).
            serverRoot.disconnect()
            #expect(try await rootDisconnects.expectNext() == .ioServerDisconnect)
            await manager.close()
            try await fixture.eventually("the server saw both disconnects") {
                serverMetrics.counterTotal(label: Self.disconnects) == 2
            }
        }

        for (metrics, role) in [(serverMetrics, Self.server), (clientMetrics, Self.client)] {
            #expect(metrics.counterTotal(label: Self.opened, dimensions: [role]) == 2)
            #expect(metrics.counterTotal(label: Self.refused, dimensions: [role, Self.reason("invalid_namespace")]) == 1)
            #expect(metrics.counterTotal(label: Self.refused, dimensions: [role, Self.reason("middleware")]) == 1)
            #expect(metrics.counterTotal(label: Self.refused) == 2)
            #expect(Self.activeConnections(metrics, role) == 0)
        }
        #expect(
            serverMetrics.counterTotal(
                label: Self.disconnects,
                dimensions: [Self.server, Self.reason("server_namespace_disconnect")]
            ) == 1
        )
        #expect(
            serverMetrics.counterTotal(
                label: Self.disconnects,
                dimensions: [Self.server, Self.reason("client_namespace_disconnect")]
            ) == 1
        )
        #expect(
            clientMetrics.counterTotal(label: Self.disconnects, dimensions: [Self.client, Self.reason("io_server_disconnect")]) == 1
        )
        #expect(
            clientMetrics.counterTotal(label: Self.disconnects, dimensions: [Self.client, Self.reason("io_client_disconnect")]) == 1
        )
        #expect(clientMetrics.counterTotal(label: Self.disconnects) == 2)
        // The factories reach the Engine.IO layer underneath: one session each side.
        #expect(serverMetrics.counterTotal(label: "engineio.sessions.opened", dimensions: [Self.server]) == 1)
        #expect(clientMetrics.counterTotal(label: "engineio.sessions.opened", dimensions: [Self.client]) == 1)
        #expect(serverMetrics.counterTotal(label: Self.reconnectAttempts) == 0)
        #expect(clientMetrics.counterTotal(label: Self.reconnectAttempts) == 0)
    }

    @Test("4.2.6: events both directions and acknowledgements received or timed out, on both sides")
    func eventsAndAcks() async throws {
        let serverMetrics = TestMetrics()
        let clientMetrics = TestMetrics()
        let serverSockets = FakeQueue<SocketIOSocket>()
        let configuration = Self.serverConfiguration(serverMetrics)
        try await SocketIOServerFixture.run(
            configuration,
            configure: { io in
                io.onConnection { socket in
                    socket.on("ping") { event in event.socket.emit("pong") }
                    socket.on("echo") { event in event.ack(arguments: event.arguments) }
                    // "silent" is never acknowledged.
                    serverSockets.push(socket)
                }
            }
        ) { fixture in
            let manager = try SocketIOClientManager(
                url: "http://127.0.0.1:\(fixture.port)",
                configuration: Self.clientConfiguration(clientMetrics)
            )
            let socket = try manager.socket()
            let pongs = FakeQueue<Void>()
            socket.on("pong") { _ in pongs.push(()) }
            socket.on("ask") { event in event.acknowledge(["yes"]) }
            let silent = FakeQueue<Void>()
            socket.on("silent") { _ in silent.push(()) }
            try await socket.connect()
            let serverSocket = try await serverSockets.expectNext()

            for _ in 1...3 { try socket.emit("ping") }
            for _ in 1...3 { try await pongs.expectNext() }
            #expect(try await socket.emitWithAck("echo", [1], timeout: .seconds(5)) == [1])
            await #expect(throws: SocketIOError.self) {
                _ = try await socket.emitWithAck("silent", timeout: .milliseconds(50))
            }
            #expect(try await serverSocket.emitWithAck("ask", timeout: .seconds(5)) == ["yes"])
            await #expect(throws: SocketIOError.self) {
                _ = try await serverSocket.emitWithAck("silent", timeout: .milliseconds(50))
            }
            try await silent.expectNext()
            await manager.close()
        }

        // Client → server: 3 ping, echo, silent. Server → client: 3 pong, ask, silent.
        for (metrics, role) in [(serverMetrics, Self.server), (clientMetrics, Self.client)] {
            #expect(metrics.counterTotal(label: Self.events, dimensions: [role, Self.received]) == 5)
            #expect(metrics.counterTotal(label: Self.events, dimensions: [role, Self.sent]) == 5)
            #expect(metrics.counterTotal(label: Self.acks, dimensions: [role, Self.outcome("received")]) == 1)
            #expect(metrics.counterTotal(label: Self.acks, dimensions: [role, Self.outcome("timed_out")]) == 1)
        }
        #expect(serverMetrics.recorders(label: Self.recipients).flatMap(\.values).isEmpty)
    }

    @Test("A broadcast counts one event sent per recipient and records its recipient count")
    func broadcastRecipients() async throws {
        let serverMetrics = TestMetrics()
        try await SocketIOServerFixture.run(Self.serverConfiguration(serverMetrics)) { fixture in
            let news = FakeQueue<Void>()
            var managers: [SocketIOClientManager] = []
            for _ in 1...2 {
                let manager = try SocketIOClientManager(url: "http://127.0.0.1:\(fixture.port)", configuration: .testing(.websocket))
                let socket = try manager.socket()
                socket.on("news") { _ in news.push(()) }
                try await socket.connect()
                managers.append(manager)
            }
            try await fixture.eventually("both sockets joined") { fixture.io.sockets.localSockets.count == 2 }
            fixture.io.emit("news", "hello")
            for _ in 1...2 { try await news.expectNext() }
            for manager in managers { await manager.close() }
        }
        #expect(serverMetrics.counterTotal(label: Self.events, dimensions: [Self.server, Self.sent]) == 2)
        #expect(serverMetrics.recorders(label: Self.recipients, dimensions: [Self.server]).flatMap(\.values) == [2])
    }

    @Test("socket.io-protocol v5: a packet that does not decode closes the session and is counted by error code")
    func invalidPacket() async throws {
        let serverMetrics = TestMetrics()
        try await SocketIOServerFixture.run(Self.serverConfiguration(serverMetrics)) { fixture in
            try await fixture.withClient { client in
                try await client.connect()
                try await client.send(text: "9 not a packet type")
                try await client.waitUntilEnded()
            }
            try await fixture.eventually("the socket left") { serverMetrics.counterTotal(label: Self.disconnects) == 1 }
        }
        #expect(serverMetrics.counterTotal(label: Self.invalid, dimensions: [Self.server, Self.outcome("invalidPacket")]) == 1)
        #expect(serverMetrics.counterTotal(label: Self.invalid) == 1)
        #expect(serverMetrics.counterTotal(label: Self.disconnects, dimensions: [Self.server, Self.reason("parse_error")]) == 1)
        #expect(Self.activeConnections(serverMetrics, Self.server) == 0)
    }

    @Test("4.2.8: a lost connection counts a reconnect attempt and a recovered session; an unknown pid is not recovered")
    func recoveryAndReconnection() async throws {
        let serverMetrics = TestMetrics()
        let clientMetrics = TestMetrics()
        let serverSockets = FakeQueue<SocketIOSocket>()
        let configuration = Self.serverConfiguration(serverMetrics) {
            $0.connectionStateRecovery = SocketIOConnectionStateRecovery(maxDisconnectionDuration: .seconds(60))
        }
        try await SocketIOServerFixture.run(configuration, configure: { io in io.onConnection { serverSockets.push($0) } }) {
            fixture in
            let manager = try SocketIOClientManager(
                url: "http://127.0.0.1:\(fixture.port)",
                configuration: Self.clientConfiguration(clientMetrics)
            )
            let socket = try manager.socket()
            let hellos = FakeQueue<Void>()
            socket.on("hello") { _ in hellos.push(()) }
            let connects = FakeQueue<Bool>()
            socket.onConnect { connects.push(socket.recovered) }
            try await socket.connect()
            #expect(try await connects.expectNext() == false)
            // The event gives the client an offset to recover from.
            try await serverSockets.expectNext().emit("hello")
            try await hellos.expectNext()

            // "forced server close" is recoverable: the client reconnects with {pid, offset}.
            fixture.io.sockets.localSockets.first?.disconnect(close: true)
            #expect(try await connects.expectNext() == true)
            _ = try await serverSockets.expectNext()
            await manager.close()

            // A raw client with a pid the server never gave.
            _ = try await fixture.withClient { client in
                try await client.connect(auth: ["pid": "unknown", "offset": "0-0"])
            }
            try await fixture.eventually("every socket left") { serverMetrics.counterTotal(label: Self.disconnects) == 3 }
        }
        #expect(serverMetrics.counterTotal(label: Self.recoveries, dimensions: [Self.server, Self.outcome("recovered")]) == 1)
        #expect(serverMetrics.counterTotal(label: Self.recoveries, dimensions: [Self.server, Self.outcome("not_recovered")]) == 1)
        #expect(serverMetrics.counterTotal(label: Self.opened) == 3)
        #expect(
            serverMetrics.counterTotal(label: Self.disconnects, dimensions: [Self.server, Self.reason("forced_server_close")]) == 1
        )
        #expect(clientMetrics.counterTotal(label: Self.reconnectAttempts, dimensions: [Self.client]) == 1)
        #expect(clientMetrics.counterTotal(label: Self.opened, dimensions: [Self.client]) == 2)
        #expect(clientMetrics.counterTotal(label: Self.disconnects, dimensions: [Self.client, Self.reason("transport_close")]) == 1)
        #expect(clientMetrics.counterTotal(label: Self.disconnects, dimensions: [Self.client, Self.reason("io_client_disconnect")]) == 1)
        #expect(Self.activeConnections(clientMetrics, Self.client) == 0)
        #expect(Self.activeConnections(serverMetrics, Self.server) == 0)
    }
}
