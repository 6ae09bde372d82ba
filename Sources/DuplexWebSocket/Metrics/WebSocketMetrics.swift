import DuplexWebSocketCore
import Metrics

/// The WebSocket layer's metrics (`Docs/Metrics.md`): every label and dimension of the layer is
/// defined here.
///
/// One instance per ``WebSocketServer``, or per client `connect` call, is shared by its
/// connections; they only touch the objects built here, so a message costs two counter
/// increments and no allocation. Dimensions are bounded: `role`, `direction`, `initiator`, a close
/// code in 1000-4999 (else `other`), an HTTP status or a ``WebSocketError/Code`` name.
final class WebSocketMetrics: Sendable {
    /// The metric labels, stable across releases.
    enum Label {
        static let connectionsOpened = "websocket.connections.opened"
        static let connectionsActive = "websocket.connections.active"
        static let connectionsClosed = "websocket.closes"
        static let handshakesFailed = "websocket.handshakes.failed"
        static let messages = "websocket.messages"
        static let messageBytes = "websocket.message.bytes"
        static let pingRoundTrip = "websocket.ping.rtt"
    }

    /// The dimension names.
    enum Dimension {
        static let role = "role"
        static let direction = "direction"
        static let initiator = "initiator"
        static let code = "code"
        static let outcome = "outcome"
    }

    private let connectionsOpened: Counter
    private let connectionsActive: Meter
    private let connectionsClosed: CounterFamily
    private let handshakesFailed: CounterFamily
    private let messagesReceived: Counter
    private let messagesSent: Counter
    private let bytesReceived: Counter
    private let bytesSent: Counter
    private let pingRoundTrip: Timer

    /// Creates the metrics of one server or client.
    init(role: Role, factory: any MetricsFactory) {
        let role = (Dimension.role, role == .server ? "server" : "client")
        func counter(_ label: String, direction: String) -> Counter {
            Counter(label: label, dimensions: [role, (Dimension.direction, direction)], factory: factory)
        }
        connectionsOpened = Counter(label: Label.connectionsOpened, dimensions: [role], factory: factory)
        connectionsActive = Meter(label: Label.connectionsActive, dimensions: [role], factory: factory)
        connectionsClosed = CounterFamily(
            label: Label.connectionsClosed,
            fixedDimensions: [role],
            variableDimensions: [Dimension.initiator, Dimension.code],
            factory: factory
        )
        handshakesFailed = CounterFamily(
            label: Label.handshakesFailed,
            fixedDimensions: [role],
            variableDimensions: [Dimension.outcome],
            factory: factory
        )
        messagesReceived = counter(Label.messages, direction: "received")
        messagesSent = counter(Label.messages, direction: "sent")
        bytesReceived = counter(Label.messageBytes, direction: "received")
        bytesSent = counter(Label.messageBytes, direction: "sent")
        pingRoundTrip = Timer(label: Label.pingRoundTrip, dimensions: [role], factory: factory)
    }

    /// A connection completed its opening handshake.
    func connectionOpened() {
        connectionsOpened.increment()
        connectionsActive.increment()
    }

    /// A connection opened with ``connectionOpened()`` ended. `info` is nil when the connection
    /// went away without the state machine reporting its end (counted as 1006, no initiator).
    func connectionClosed(_ info: CloseInfo?) {
        let (initiator, code) = Self.closeDimensions(info)
        connectionsClosed.counter([initiator, code]).increment()
        connectionsActive.decrement()
    }

    /// The server refused an opening handshake with this HTTP status.
    func handshakeRejected(status: Int) {
        // HTTP statuses are three digits (RFC 9110 §15).
        handshakesFailed.counter([(100...999).contains(status) ? String(status) : CounterFamily.other]).increment()
    }

    /// The client's opening handshake failed with this error.
    func handshakeFailed(_ code: WebSocketError.Code) {
        handshakesFailed.counter([code.description]).increment()
    }

    /// A complete message was handed to the application.
    func messageReceived(size: Int) {
        messagesReceived.increment()
        bytesReceived.increment(by: size)
    }

    /// The application sent a message or a fragment; `completesMessage` counts the message (a
    /// whole message, or the final fragment of one).
    func sent(size: Int, completesMessage: Bool) {
        if completesMessage { messagesSent.increment() }
        bytesSent.increment(by: size)
    }

    /// A keepalive ping was answered after `latency`.
    func pingAnswered(after latency: Duration) {
        pingRoundTrip.record(duration: latency)
    }

    /// Who started the closing handshake and its code: the peer's code when the peer's close
    /// frame came first, ours when ours did, 1006 when no close frame was exchanged
    /// (RFC 6455 §7.1.5). Codes outside 1000-4999 (§7.4.2: not used) are `other`.
    static func closeDimensions(_ info: CloseInfo?) -> (initiator: String, code: String) {
        let initiator: String
        let code: CloseCode
        if let info, let received = info.received, info.receivedThenSent || info.sent == nil {
            (initiator, code) = ("peer", received.code)
        } else if let sent = info?.sent {
            (initiator, code) = ("local", sent.code)
        } else {
            (initiator, code) = ("none", .abnormalClosure)
        }
        return (initiator, (1000...4999).contains(code.rawValue) ? code.description : CounterFamily.other)
    }
}
