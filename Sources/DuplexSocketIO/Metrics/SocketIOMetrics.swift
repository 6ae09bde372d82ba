import DuplexSocketIOCore
import DuplexWebSocket
import Metrics

/// The Socket.IO layer's metrics (`Docs/Metrics.md`): every label and dimension of the layer is
/// defined here.
///
/// One instance per ``SocketIOServer``, or per ``SocketIOClientManager``, is shared by its
/// sockets; they only touch the objects built here, so an event costs one counter increment and
/// no allocation. Dimensions are bounded: `role`, `direction`, an outcome, a refusal reason, a
/// disconnect reason in snake case, a ``SocketIOError/Code`` name. Namespaces, socket ids, rooms
/// and event names are never dimensions: dynamic namespaces make them unbounded.
final class SocketIOMetrics: Sendable {
    /// The metric labels, stable across releases.
    enum Label {
        static let connectionsOpened = "socketio.connections.opened"
        static let connectionsActive = "socketio.connections.active"
        static let connectionsRefused = "socketio.connections.refused"
        static let disconnects = "socketio.disconnects"
        static let events = "socketio.events"
        static let acks = "socketio.acks"
        static let broadcastRecipients = "socketio.broadcast.recipients"
        static let invalidPackets = "socketio.packets.invalid"
        static let recoveries = "socketio.recoveries"
        static let reconnectAttempts = "socketio.reconnect.attempts"
    }

    /// The dimension names.
    enum Dimension {
        static let role = "role"
        static let direction = "direction"
        static let reason = "reason"
        static let outcome = "outcome"
    }

    /// Which side of the connection the metrics describe (the `role` dimension).
    enum Role {
        case server
        case client
    }

    /// Why a namespace connection was refused (the `reason` of `socketio.connections.refused`).
    enum RefusalReason {
        /// No namespace of that name, and no dynamic namespace matched (CONNECT_ERROR
        /// "Invalid namespace", protocol.md 4.2.5).
        case invalidNamespace
        /// A connection middleware refused (server), or the server sent any other CONNECT_ERROR
        /// (client).
        case middleware
    }

    private let connectionsOpened: Counter
    private let connectionsActive: Meter
    private let refusedInvalidNamespace: Counter
    private let refusedByMiddleware: Counter
    private let disconnects: CounterFamily
    private let eventsReceived: Counter
    private let eventsSent: Counter
    private let acksReceived: Counter
    private let acksTimedOut: Counter
    private let broadcastRecipients: Recorder
    private let invalidPackets: CounterFamily
    private let recovered: Counter
    private let notRecovered: Counter
    private let reconnectAttempts: Counter

    /// Creates the metrics of one server or client manager.
    init(role: Role, factory: any MetricsFactory) {
        let role = (Dimension.role, role == .server ? "server" : "client")
        func counter(_ label: String, _ dimension: String, _ value: String) -> Counter {
            Counter(label: label, dimensions: [role, (dimension, value)], factory: factory)
        }
        func family(_ label: String, by dimension: String) -> CounterFamily {
            CounterFamily(label: label, fixedDimensions: [role], variableDimensions: [dimension], factory: factory)
        }
        connectionsOpened = Counter(label: Label.connectionsOpened, dimensions: [role], factory: factory)
        connectionsActive = Meter(label: Label.connectionsActive, dimensions: [role], factory: factory)
        refusedInvalidNamespace = counter(Label.connectionsRefused, Dimension.reason, "invalid_namespace")
        refusedByMiddleware = counter(Label.connectionsRefused, Dimension.reason, "middleware")
        disconnects = family(Label.disconnects, by: Dimension.reason)
        eventsReceived = counter(Label.events, Dimension.direction, "received")
        eventsSent = counter(Label.events, Dimension.direction, "sent")
        acksReceived = counter(Label.acks, Dimension.outcome, "received")
        acksTimedOut = counter(Label.acks, Dimension.outcome, "timed_out")
        broadcastRecipients = Recorder(label: Label.broadcastRecipients, dimensions: [role], factory: factory)
        invalidPackets = family(Label.invalidPackets, by: Dimension.outcome)
        recovered = counter(Label.recoveries, Dimension.outcome, "recovered")
        notRecovered = counter(Label.recoveries, Dimension.outcome, "not_recovered")
        reconnectAttempts = Counter(label: Label.reconnectAttempts, dimensions: [role], factory: factory)
    }

    /// A socket joined its namespace (the server accepted its CONNECT).
    func connectionOpened() {
        connectionsOpened.increment()
        connectionsActive.increment()
    }

    /// A namespace connection was refused with CONNECT_ERROR.
    func connectionRefused(_ reason: RefusalReason) {
        switch reason {
        case .invalidNamespace: refusedInvalidNamespace.increment()
        case .middleware: refusedByMiddleware.increment()
        }
    }

    /// Server: a socket opened with ``connectionOpened()`` left its namespace.
    func disconnected(_ reason: SocketIODisconnectReason) {
        disconnected(reasonName: Self.snakeCase(reason.rawValue))
    }

    /// Client: a socket opened with ``connectionOpened()`` left its namespace.
    func disconnected(_ reason: SocketIOClientDisconnectReason) {
        disconnected(reasonName: Self.snakeCase(reason.rawValue))
    }

    private func disconnected(reasonName: String) {
        disconnects.counter([reasonName]).increment()
        connectionsActive.decrement()
    }

    /// An EVENT was handed to the socket's handlers.
    func eventReceived() {
        eventsReceived.increment()
    }

    /// An EVENT was queued for the peer (server: once per recipient socket).
    func eventSent() {
        eventsSent.increment()
    }

    /// The peer acknowledged an event sent with an ack id.
    func ackReceived() {
        acksReceived.increment()
    }

    /// No acknowledgement came within the timeout.
    func ackTimedOut() {
        acksTimedOut.increment()
    }

    /// A broadcast selected `count` sockets of this server.
    func broadcast(recipients count: Int) {
        broadcastRecipients.record(count)
    }

    /// The server closed a session for a packet that does not decode or breaks the protocol.
    func invalidPacket(_ code: SocketIOError.Code) {
        invalidPackets.counter([code.description]).increment()
    }

    /// A CONNECT carried a connection state recovery `pid` and `offset` (protocol.md 4.2.8);
    /// `restored` tells whether the session was found.
    func recovery(restored: Bool) {
        (restored ? recovered : notRecovered).increment()
    }

    /// The client manager started a reconnection attempt.
    func reconnectAttempted() {
        reconnectAttempts.increment()
    }

    /// The `reason` dimension of a disconnect reason: its string in snake case (`ping timeout` →
    /// `ping_timeout`). The reasons the library gives are a fixed set of constants.
    static func snakeCase(_ reason: String) -> String {
        String(reason.map { $0 == " " ? "_" : $0 })
    }
}
