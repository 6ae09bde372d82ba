import CoreMetrics
import DuplexWebSocketCore
import HTTPTypes
import MetricsTestKit
import NIOCore
import Testing

@testable import DuplexWebSocket

/// The WebSocket metrics of `Docs/Metrics.md`, recorded into a `TestMetrics` factory passed in
/// the configuration (no global bootstrap: the suites run in parallel).
@Suite("Metrics (Docs/Metrics.md)", .timeLimit(.minutes(1)))
struct MetricsTests {
    static let opened = "websocket.connections.opened"
    static let active = "websocket.connections.active"
    static let closed = "websocket.closes"
    static let handshakesFailed = "websocket.handshakes.failed"
    static let messages = "websocket.messages"
    static let bytes = "websocket.message.bytes"
    static let pingRoundTrip = "websocket.ping.rtt"

    static let server = ("role", "server")
    static let client = ("role", "client")
    static let received = ("direction", "received")
    static let sent = ("direction", "sent")

    /// The last value of the meter `label` with exactly these dimensions (nil if never set).
    static func meterValue(_ metrics: TestMetrics, _ label: String, _ dimensions: [(String, String)]) -> Double? {
        metrics.meters(label: label, dimensions: dimensions).first?.lastValue
    }

    /// An echo route, a route whose handler closes with the code sent as text, and a route whose
    /// upgrade hook refuses with 403.
    static func router() -> WebSocketRouter {
        var router = echoRouter()
        router.webSocket("/close") { connection in
            for try await message in connection.messages {
                try await connection.close(code: CloseCode(UInt16(message.text ?? "") ?? 1000), reason: "bye")
            }
        }
        router.webSocket("/forbidden", shouldUpgrade: { _ in .reject(status: .forbidden) }) { _ in }
        router.webSocket("/loop") { message, connection in try? connection.send(message) }
        return router
    }

    @Test("An echo session is counted on both sides: opened 1, messages and bytes each way, closed 1000")
    func echoSession() async throws {
        try await withTimeout {
            let serverMetrics = TestMetrics()
            let clientMetrics = TestMetrics()
            let configuration = WebSocketServerConfiguration.test { $0.metricsFactory = serverMetrics }
            try await withServer(configuration, router: Self.router()) { server in
                let client = WebSocketClientConfiguration.test { $0.metricsFactory = clientMetrics }
                let messages: [WebSocketMessage] = [.text("a"), .text("bb"), .binary([1, 2, 3])]
                try await WebSocketConnection.connect(to: server.url("/echo"), configuration: client, logger: .test) { connection in
                    var replies = connection.messages.makeAsyncIterator()
                    for message in messages {
                        try await connection.send(message)
                        #expect(try await replies.next() == message)
                    }
                    #expect(Self.meterValue(clientMetrics, Self.active, [Self.client]) == 1)
                    #expect(Self.meterValue(serverMetrics, Self.active, [Self.server]) == 1)
                }
                // The client closed with 1000 when its body returned (RFC 6455 §7.1.2); the
                // server echoed it. The server records the end when its TCP connection is gone.
                try await waitUntil { serverMetrics.counterTotal(label: Self.closed) == 1 }
                try await waitUntil { clientMetrics.counterTotal(label: Self.closed) == 1 }
            }
            for (metrics, role, initiator) in [(serverMetrics, Self.server, "peer"), (clientMetrics, Self.client, "local")] {
                #expect(metrics.counterTotal(label: Self.opened, dimensions: [role]) == 1)
                #expect(metrics.counterTotal(label: Self.messages, dimensions: [role, Self.received]) == 3)
                #expect(metrics.counterTotal(label: Self.messages, dimensions: [role, Self.sent]) == 3)
                #expect(metrics.counterTotal(label: Self.bytes, dimensions: [role, Self.received]) == 6)
                #expect(metrics.counterTotal(label: Self.bytes, dimensions: [role, Self.sent]) == 6)
                #expect(metrics.counterTotal(label: Self.closed, dimensions: [role, ("initiator", initiator), ("code", "1000")]) == 1)
                #expect(Self.meterValue(metrics, Self.active, [role]) == 0)
                #expect(metrics.counterTotal(label: Self.handshakesFailed) == 0)
            }
        }
    }

    @Test("RFC 6455 §7.4: the close code of the side that started the closing handshake is the dimension", arguments: [1001, 3000, 4999])
    func closeCodeDimension(code: Int) async throws {
        try await withTimeout {
            let serverMetrics = TestMetrics()
            let clientMetrics = TestMetrics()
            let configuration = WebSocketServerConfiguration.test { $0.metricsFactory = serverMetrics }
            try await withServer(configuration, router: Self.router()) { server in
                let client = WebSocketClientConfiguration.test { $0.metricsFactory = clientMetrics }
                try await WebSocketConnection.connect(to: server.url("/close"), configuration: client, logger: .test) { connection in
                    try await connection.send(text: "\(code)")
                    do {
                        for try await _ in connection.messages {}
                    } catch let error as WebSocketError {
                        #expect(error.closeInfo?.code.rawValue == UInt16(code))
                    }
                }
                try await waitUntil { serverMetrics.counterTotal(label: Self.closed) == 1 }
                try await waitUntil { clientMetrics.counterTotal(label: Self.closed) == 1 }
            }
            let codeDimension = ("code", "\(code)")
            #expect(serverMetrics.counterTotal(label: Self.closed, dimensions: [Self.server, ("initiator", "local"), codeDimension]) == 1)
            #expect(clientMetrics.counterTotal(label: Self.closed, dimensions: [Self.client, ("initiator", "peer"), codeDimension]) == 1)
            #expect(serverMetrics.counterTotal(label: Self.messages, dimensions: [Self.server, Self.received]) == 1)
        }
    }

    @Test(
        "RFC 6455 §4.2.2: a refused opening handshake is counted with its status (server) and error code (client)",
        arguments: [("/missing", "404"), ("/forbidden", "403")]
    )
    func rejectedHandshake(path: String, status: String) async throws {
        try await withTimeout {
            let serverMetrics = TestMetrics()
            let clientMetrics = TestMetrics()
            let configuration = WebSocketServerConfiguration.test { $0.metricsFactory = serverMetrics }
            try await withServer(configuration, router: Self.router()) { server in
                let error = await connectError(to: server.url(path), configuration: .test { $0.metricsFactory = clientMetrics })
                #expect((error as? WebSocketError)?.code == .handshakeRejected)
            }
            #expect(serverMetrics.counterTotal(label: Self.handshakesFailed, dimensions: [Self.server, ("outcome", status)]) == 1)
            #expect(serverMetrics.counterTotal(label: Self.handshakesFailed) == 1)
            #expect(
                clientMetrics.counterTotal(label: Self.handshakesFailed, dimensions: [Self.client, ("outcome", "handshakeRejected")]) == 1)
            #expect(serverMetrics.counterTotal(label: Self.opened) == 0)
            #expect(clientMetrics.counterTotal(label: Self.opened) == 0)
        }
    }

    @Test("A client that cannot connect counts connectionFailed and opens nothing")
    func refusedConnection() async throws {
        try await withTimeout {
            let clientMetrics = TestMetrics()
            let port = try await unusedPort()
            let error = await connectError(to: "ws://127.0.0.1:\(port)/", configuration: .test { $0.metricsFactory = clientMetrics })
            #expect((error as? WebSocketError)?.code == .connectionFailed)
            #expect(
                clientMetrics.counterTotal(label: Self.handshakesFailed, dimensions: [Self.client, ("outcome", "connectionFailed")]) == 1)
            #expect(clientMetrics.counterTotal(label: Self.opened) == 0)
        }
    }

    @Test("Event-loop handlers are counted like async ones")
    func eventLoopHandler() async throws {
        try await withTimeout {
            let serverMetrics = TestMetrics()
            let configuration = WebSocketServerConfiguration.test { $0.metricsFactory = serverMetrics }
            try await withServer(configuration, router: Self.router()) { server in
                try await WebSocketConnection.connect(to: server.url("/loop"), configuration: .test(), logger: .test) { connection in
                    var replies = connection.messages.makeAsyncIterator()
                    for index in 0..<5 {
                        try await connection.send(text: "\(index)")
                        #expect(try await replies.next()?.text == "\(index)")
                    }
                }
                try await waitUntil { serverMetrics.counterTotal(label: Self.closed) == 1 }
            }
            #expect(serverMetrics.counterTotal(label: Self.opened, dimensions: [Self.server]) == 1)
            #expect(serverMetrics.counterTotal(label: Self.messages, dimensions: [Self.server, Self.received]) == 5)
            #expect(serverMetrics.counterTotal(label: Self.messages, dimensions: [Self.server, Self.sent]) == 5)
            #expect(serverMetrics.counterTotal(label: Self.bytes, dimensions: [Self.server, Self.sent]) == 5)
            #expect(Self.meterValue(serverMetrics, Self.active, [Self.server]) == 0)
        }
    }

    @Test("RFC 6455 §5.5.2-5.5.3: answered keepalive pings record their round-trip time")
    func keepalivePingRoundTrip() async throws {
        try await withTimeout {
            let serverMetrics = TestMetrics()
            let configuration = WebSocketServerConfiguration.test {
                $0.metricsFactory = serverMetrics
                $0.keepAlive = .enabled(interval: .milliseconds(50), timeout: .seconds(10))
            }
            try await withServer(configuration, router: Self.router()) { server in
                try await WebSocketConnection.connect(to: server.url("/echo"), configuration: .test(), logger: .test) { _ in
                    try await waitUntil { (try? serverMetrics.expectTimer(Self.pingRoundTrip, [Self.server]).values.count) ?? 0 >= 2 }
                }
            }
            let values = try serverMetrics.expectTimer(Self.pingRoundTrip, [Self.server]).values
            #expect(values.allSatisfy { $0 >= 0 })
        }
    }

    /// A close frame exchange, and the dimensions it is counted under.
    struct CloseRow: Sendable, CustomTestStringConvertible {
        var name: String
        var info: CloseInfo?
        var initiator: String
        var code: String
        var testDescription: String { name }
    }

    static let closeRows: [CloseRow] = [
        CloseRow(
            name: "peer started with 1000",
            info: CloseInfo(received: CloseFrame(code: .normalClosure), sent: CloseFrame(code: .normalClosure), receivedThenSent: true),
            initiator: "peer",
            code: "1000"
        ),
        CloseRow(
            name: "we started with 1002, the peer echoed",
            info: CloseInfo(received: CloseFrame(code: .protocolError), sent: CloseFrame(code: .protocolError), receivedThenSent: false),
            initiator: "local",
            code: "1002"
        ),
        CloseRow(
            name: "we sent 1009, no answer",
            info: CloseInfo(received: nil, sent: CloseFrame(code: .messageTooBig), receivedThenSent: false),
            initiator: "local",
            code: "1009"
        ),
        CloseRow(
            name: "§7.1.5: the peer's frame had no code (1005)",
            info: CloseInfo(received: CloseFrame(code: .noStatusReceived), sent: nil, receivedThenSent: false),
            initiator: "peer",
            code: "1005"
        ),
        CloseRow(
            name: "§7.1.5: no close frame at all is 1006",
            info: CloseInfo(received: nil, sent: nil, receivedThenSent: false),
            initiator: "none",
            code: "1006"
        ),
        CloseRow(name: "the channel went away unreported", info: nil, initiator: "none", code: "1006"),
        CloseRow(
            name: "§7.4.2: a code below 1000 is other",
            info: CloseInfo(received: CloseFrame(code: CloseCode(999)), sent: nil, receivedThenSent: false),
            initiator: "peer",
            code: "other"
        ),
        CloseRow(
            name: "§7.4.2: a code above 4999 is other",
            info: CloseInfo(received: CloseFrame(code: CloseCode(5000)), sent: nil, receivedThenSent: false),
            initiator: "peer",
            code: "other"
        ),
    ]

    @Test("RFC 6455 §7.4: close dimensions are bounded: initiator and a code in 1000-4999, else other", arguments: closeRows)
    func closeDimensions(row: CloseRow) {
        let (initiator, code) = WebSocketMetrics.closeDimensions(row.info)
        #expect(initiator == row.initiator)
        #expect(code == row.code)
    }

    @Test("A counter family folds new values into other past its series limit")
    func counterFamilyIsBounded() {
        let metrics = TestMetrics()
        let family = CounterFamily(label: "family", fixedDimensions: [("role", "server")], variableDimensions: ["code"], factory: metrics)
        for value in 0..<(CounterFamily.maxSeries + 10) { family.counter(["\(value)"]).increment() }
        family.counter(["0"]).increment()
        #expect(metrics.counters(label: "family").count == CounterFamily.maxSeries + 1)
        #expect(metrics.counterTotal(label: "family", dimensions: [("code", "other")]) == 10)
        #expect(metrics.counterTotal(label: "family", dimensions: [("role", "server"), ("code", "0")]) == 2)
    }
}
