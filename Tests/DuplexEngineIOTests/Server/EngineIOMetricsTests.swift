import DuplexEngineIO
import DuplexEngineIOCore
import DuplexWebSocket
import MetricsTestKit
import Testing

/// The Engine.IO metrics of `Docs/Metrics.md`, server and client, recorded into a `TestMetrics`
/// factory passed in the configuration (no global bootstrap: the suites run in parallel).
@Suite("Engine.IO metrics (Docs/Metrics.md)", .timeLimit(.minutes(1)))
struct EngineIOMetricsTests {
    static let opened = "engineio.sessions.opened"
    static let active = "engineio.sessions.active"
    static let closed = "engineio.sessions.closed"
    static let upgrades = "engineio.upgrades"
    static let rejected = "engineio.requests.rejected"
    static let opensFailed = "engineio.opens.failed"
    static let messages = "engineio.messages"

    static let server = ("role", "server")
    static let client = ("role", "client")
    static let polling = ("transport", "polling")
    static let websocket = ("transport", "websocket")
    static let received = ("direction", "received")
    static let sent = ("direction", "sent")

    /// The last value of the meter `label` with these dimensions (nil if never set).
    static func meterValue(_ metrics: TestMetrics, _ label: String, _ dimensions: [(String, String)]) -> Double? {
        metrics.meters(label: label, dimensions: dimensions).first?.lastValue
    }

    static func configuration(_ metrics: TestMetrics, configure: (inout EngineIOServerConfiguration) -> Void = { _ in })
        -> EngineIOServerConfiguration
    {
        var configuration = EngineIOServerConfiguration(metricsFactory: metrics)
        configure(&configuration)
        return configuration
    }

    @Test("4.1.4, 4.1.8: a polling session counts opened 1, its messages both ways, and closed by the client")
    func pollingSession() async throws {
        let metrics = TestMetrics()
        try await EngineIOServerFixture.run(Self.configuration(metrics)) { server in
            let (sid, _) = try await server.openPollingSession()
            let socket = try await server.socket(sid)
            #expect(Self.meterValue(metrics, Self.active, [Self.server, Self.polling]) == 1)
            #expect(try await server.send(sid, ["4one", "4two"]).status == 200)
            #expect(try await server.collect(sid, count: 2) == ["4one", "4two"])
            // protocol.md 4.1.8: the client closes with a `close` packet.
            #expect(try await server.send(sid, ["1"]).status == 200)
            #expect(await socket.waitUntilClosed() == .clientDisconnect)
        }
        #expect(metrics.counterTotal(label: Self.opened, dimensions: [Self.server, Self.polling]) == 1)
        #expect(metrics.counterTotal(label: Self.opened) == 1)
        #expect(metrics.counterTotal(label: Self.messages, dimensions: [Self.server, Self.polling, Self.received]) == 2)
        #expect(metrics.counterTotal(label: Self.messages, dimensions: [Self.server, Self.polling, Self.sent]) == 2)
        #expect(metrics.counterTotal(label: Self.closed, dimensions: [Self.server, ("reason", "client_disconnect")]) == 1)
        #expect(metrics.counterTotal(label: Self.closed) == 1)
        #expect(Self.meterValue(metrics, Self.active, [Self.server, Self.polling]) == 0)
        #expect(metrics.counterTotal(label: Self.rejected) == 0)
    }

    @Test("4.1.7: a polling session upgraded to WebSocket counts an upgrade success and moves to the websocket transport")
    func upgradeSuccess() async throws {
        let metrics = TestMetrics()
        try await EngineIOServerFixture.run(Self.configuration(metrics)) { server in
            let (sid, _) = try await server.openPollingSession()
            let socket = try await server.socket(sid)
            try await server.withWebSocket("EIO=4&transport=websocket&sid=\(sid)") { webSocket in
                var messages = webSocket.messages.makeAsyncIterator()
                try await webSocket.send(text: "2probe")
                #expect(try await messages.nextText() == "3probe")
                try await webSocket.send(text: "5")
                try await webSocket.send(text: "4over websocket")
                #expect(try await messages.nextText() == "4over websocket")
                #expect(metrics.counterTotal(label: Self.upgrades, dimensions: [Self.server, ("outcome", "success")]) == 1)
                #expect(Self.meterValue(metrics, Self.active, [Self.server, Self.polling]) == 0)
                #expect(Self.meterValue(metrics, Self.active, [Self.server, Self.websocket]) == 1)
            }
            // The WebSocket closed without a `close` packet.
            #expect(await socket.waitUntilClosed() == .transportClose)
        }
        #expect(metrics.counterTotal(label: Self.opened, dimensions: [Self.server, Self.polling]) == 1)
        #expect(metrics.counterTotal(label: Self.opened, dimensions: [Self.server, Self.websocket]) == 0)
        #expect(metrics.counterTotal(label: Self.upgrades) == 1)
        #expect(metrics.counterTotal(label: Self.messages, dimensions: [Self.server, Self.websocket, Self.received]) == 1)
        #expect(metrics.counterTotal(label: Self.messages, dimensions: [Self.server, Self.websocket, Self.sent]) == 1)
        #expect(metrics.counterTotal(label: Self.closed, dimensions: [Self.server, ("reason", "transport_close")]) == 1)
        #expect(Self.meterValue(metrics, Self.active, [Self.server, Self.websocket]) == 0)
    }

    @Test("4.1.6: a session closed by the heartbeat counts the ping timeout reason")
    func pingTimeout() async throws {
        let metrics = TestMetrics()
        // Not answering is the point: a short timeout cannot make this flaky.
        let configuration = Self.configuration(metrics) {
            $0.pingInterval = .milliseconds(100)
            $0.pingTimeout = .milliseconds(300)
        }
        try await EngineIOServerFixture.run(configuration, mode: .manual) { server in
            let (sid, _) = try await server.openPollingSession()
            let socket = try await server.socket(sid)
            // The GET carries the ping, or, on a loaded machine, already the close: either way
            // the pong never comes.
            _ = try await server.poll(sid)
            #expect(await socket.waitUntilClosed() == .pingTimeout)
        }
        #expect(metrics.counterTotal(label: Self.closed, dimensions: [Self.server, ("reason", "ping_timeout")]) == 1)
        #expect(metrics.counterTotal(label: Self.closed) == 1)
        #expect(Self.meterValue(metrics, Self.active, [Self.server, Self.polling]) == 0)
    }

    @Test("4.1.1: refused requests are counted by error code; a refused upgrade also as an upgrade refusal")
    func rejectedRequests() async throws {
        let metrics = TestMetrics()
        let unknownSid = "AAAAAAAAAAAAAAAAAAAA"
        try await EngineIOServerFixture.run(Self.configuration(metrics)) { server in
            let statuses = [
                try await server.poll(unknownSid).status,
                try await server.get("EIO=3&transport=polling").status,
                try await server.get("EIO=4&transport=carrier-pigeon").status,
                try await server.refusedUpgrade("EIO=4&transport=websocket&sid=\(unknownSid)").status,
            ]
            #expect(statuses == [400, 400, 400, 400])
        }
        for (outcome, count) in [("sessionIdUnknown", 2), ("unsupportedProtocolVersion", 1), ("transportUnknown", 1)] {
            #expect(
                metrics.counterTotal(label: Self.rejected, dimensions: [Self.server, ("outcome", outcome)]) == Int64(count), "\(outcome)")
        }
        #expect(metrics.counterTotal(label: Self.rejected) == 4)
        #expect(metrics.counterTotal(label: Self.upgrades, dimensions: [Self.server, ("outcome", "refused")]) == 1)
        #expect(metrics.counterTotal(label: Self.upgrades) == 1)
        #expect(metrics.counterTotal(label: Self.opened) == 0)
    }

    @Test("The client counts its session, the upgrade, its messages and its WebSocket transport into its factory")
    func clientSession() async throws {
        let serverMetrics = TestMetrics()
        let clientMetrics = TestMetrics()
        try await EngineIOServerFixture.run(Self.configuration(serverMetrics)) { server in
            let configuration = EngineIOClientConfiguration(metricsFactory: clientMetrics)
            try await EngineIOClient.connect(to: "http://127.0.0.1:\(server.port)\(server.path)", configuration: configuration) { socket in
                #expect(await waitForTransport(.websocket, on: socket))
                var inbox = socket.messages.makeAsyncIterator()
                try await socket.send(text: "hello")
                #expect(try await inbox.next() == .text("hello"))
                #expect(Self.meterValue(clientMetrics, Self.active, [Self.client, Self.websocket]) == 1)
            }
            try await boundedWait(.seconds(20), "the server-side close") {
                while serverMetrics.counterTotal(label: Self.closed) == 0 { try await Task.sleep(for: .milliseconds(5)) }
            }
        }
        #expect(clientMetrics.counterTotal(label: Self.opened, dimensions: [Self.client, Self.polling]) == 1)
        #expect(clientMetrics.counterTotal(label: Self.upgrades, dimensions: [Self.client, ("outcome", "success")]) == 1)
        #expect(clientMetrics.counterTotal(label: Self.messages, dimensions: [Self.client, Self.websocket, Self.sent]) == 1)
        #expect(clientMetrics.counterTotal(label: Self.messages, dimensions: [Self.client, Self.websocket, Self.received]) == 1)
        #expect(clientMetrics.counterTotal(label: Self.closed, dimensions: [Self.client, ("reason", "client_disconnect")]) == 1)
        #expect(Self.meterValue(clientMetrics, Self.active, [Self.client, Self.websocket]) == 0)
        // The factory reaches the WebSocket transport (it replaces `webSocket.metricsFactory`).
        #expect(clientMetrics.counterTotal(label: "websocket.connections.opened", dimensions: [Self.client]) == 1)
        #expect(serverMetrics.counterTotal(label: Self.upgrades, dimensions: [Self.server, ("outcome", "success")]) == 1)
        #expect(serverMetrics.counterTotal(label: Self.closed, dimensions: [Self.server, ("reason", "client_disconnect")]) == 1)
    }

    @Test("4.1.1: a handshake refused by allowRequest is a forbidden rejection on the server and an open failure on the client")
    func refusedHandshake() async throws {
        let serverMetrics = TestMetrics()
        let clientMetrics = TestMetrics()
        let configuration = Self.configuration(serverMetrics) { $0.allowRequest = { _ in .refuse(message: "no") } }
        try await EngineIOServerFixture.run(configuration) { server in
            let client = EngineIOClientConfiguration(transports: [.polling], metricsFactory: clientMetrics)
            let error = await #expect(throws: EngineIOError.self) {
                try await EngineIOClient.connect(to: "http://127.0.0.1:\(server.port)\(server.path)", configuration: client) { _ in }
            }
            #expect(error?.code == .handshakeRejected)
        }
        #expect(serverMetrics.counterTotal(label: Self.rejected, dimensions: [Self.server, ("outcome", "forbidden")]) == 1)
        #expect(serverMetrics.counterTotal(label: Self.opened) == 0)
        #expect(clientMetrics.counterTotal(label: Self.opensFailed, dimensions: [Self.client, ("outcome", "handshakeRejected")]) == 1)
        #expect(clientMetrics.counterTotal(label: Self.opened) == 0)
    }
}
