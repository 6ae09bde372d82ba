import DuplexEngineIOCore
import DuplexWebSocket
import DuplexWebSocketCore
import Metrics

/// The Engine.IO layer's metrics (`Docs/Metrics.md`): every label and dimension of the layer is
/// defined here.
///
/// One instance per ``EngineIOServer``, or per client `connect` call, is shared by its sessions;
/// they only touch the objects built here, so a message costs one counter increment and no
/// allocation. Dimensions are bounded: `role`, `transport` (`polling`, `websocket`),
/// `direction`, a close reason name, an upgrade outcome, an ``EngineIOError/Code`` name.
final class EngineIOMetrics: Sendable {
    /// The metric labels, stable across releases.
    enum Label {
        static let sessionsOpened = "engineio.sessions.opened"
        static let sessionsActive = "engineio.sessions.active"
        static let sessionsClosed = "engineio.sessions.closed"
        static let upgrades = "engineio.upgrades"
        static let requestsRejected = "engineio.requests.rejected"
        static let opensFailed = "engineio.opens.failed"
        static let messages = "engineio.messages"
    }

    /// The dimension names.
    enum Dimension {
        static let role = "role"
        static let transport = "transport"
        static let direction = "direction"
        static let reason = "reason"
        static let outcome = "outcome"
    }

    /// The `reason` of a client session whose task was cancelled (no ``EngineIOCloseReason``).
    static let cancelledReason = "cancelled"

    /// The metrics of one transport.
    private struct TransportMetrics: Sendable {
        let opened: Counter
        let active: Meter
        let received: Counter
        let sent: Counter

        init(_ transport: EngineIOTransport, role: (String, String), factory: any MetricsFactory) {
            let dimensions = [role, (Dimension.transport, transport.rawValue)]
            opened = Counter(label: Label.sessionsOpened, dimensions: dimensions, factory: factory)
            active = Meter(label: Label.sessionsActive, dimensions: dimensions, factory: factory)
            received = Counter(label: Label.messages, dimensions: dimensions + [(Dimension.direction, "received")], factory: factory)
            sent = Counter(label: Label.messages, dimensions: dimensions + [(Dimension.direction, "sent")], factory: factory)
        }
    }

    private let polling: TransportMetrics
    private let webSocket: TransportMetrics
    private let sessionsClosed: CounterFamily
    private let upgradesSucceeded: Counter
    private let upgradesFailed: Counter
    private let upgradesRefused: Counter
    /// Server: requests refused with an Engine.IO error. Client: sessions that failed to open.
    private let failures: CounterFamily

    /// Creates the metrics of one server or client.
    init(role: Role, factory: any MetricsFactory) {
        let roleDimension = (Dimension.role, role == .server ? "server" : "client")
        func upgrades(_ outcome: String) -> Counter {
            Counter(label: Label.upgrades, dimensions: [roleDimension, (Dimension.outcome, outcome)], factory: factory)
        }
        polling = TransportMetrics(.polling, role: roleDimension, factory: factory)
        webSocket = TransportMetrics(.websocket, role: roleDimension, factory: factory)
        sessionsClosed = CounterFamily(
            label: Label.sessionsClosed,
            fixedDimensions: [roleDimension],
            variableDimensions: [Dimension.reason],
            factory: factory
        )
        upgradesSucceeded = upgrades("success")
        upgradesFailed = upgrades("failed")
        upgradesRefused = upgrades("refused")
        failures = CounterFamily(
            label: role == .server ? Label.requestsRejected : Label.opensFailed,
            fixedDimensions: [roleDimension],
            variableDimensions: [Dimension.outcome],
            factory: factory
        )
    }

    private func metrics(of transport: EngineIOTransport) -> TransportMetrics {
        transport == .websocket ? webSocket : polling
    }

    /// A session opened over `transport`.
    func sessionOpened(transport: EngineIOTransport) {
        let metrics = metrics(of: transport)
        metrics.opened.increment()
        metrics.active.increment()
    }

    /// A session opened with ``sessionOpened(transport:)`` closed while on `transport`.
    func sessionClosed(_ reason: EngineIOCloseReason, transport: EngineIOTransport) {
        sessionClosed(reasonName: Self.reasonName(reason), transport: transport)
    }

    /// A session closed for a reason that is not an ``EngineIOCloseReason`` (``cancelledReason``).
    func sessionClosed(reasonName: String, transport: EngineIOTransport) {
        sessionsClosed.counter([reasonName]).increment()
        metrics(of: transport).active.decrement()
    }

    /// A session moved from polling to WebSocket (protocol.md 4.1.7).
    func upgradeCompleted() {
        upgradesSucceeded.increment()
        polling.active.decrement()
        webSocket.active.increment()
    }

    /// An upgrade started (the probe WebSocket was open or requested) and did not complete; the
    /// session stays on polling.
    func upgradeFailed() {
        upgradesFailed.increment()
    }

    /// The server refused an upgrade request (unknown session, or one not on polling).
    func upgradeRefused() {
        upgradesRefused.increment()
    }

    /// Server: a request was refused with this error. Client: opening a session failed with it.
    func failed(_ code: EngineIOError.Code) {
        failures.counter([code.description]).increment()
    }

    /// A message was handed to the application.
    func messageReceived(transport: EngineIOTransport) {
        metrics(of: transport).received.increment()
    }

    /// The application queued `count` messages for the peer.
    func messagesSent(_ count: Int = 1, transport: EngineIOTransport) {
        metrics(of: transport).sent.increment(by: count)
    }

    /// The `reason` dimension of a close reason: its description in snake case
    /// (`ping timeout` → `ping_timeout`). The reasons are a fixed set of constants.
    static func reasonName(_ reason: EngineIOCloseReason) -> String {
        String(reason.description.map { $0 == " " ? "_" : $0 })
    }
}
