import DuplexEngineIO
import DuplexSocketIOCore
import Metrics

/// Configuration of a Socket.IO client manager (one Engine.IO session shared by its namespace
/// sockets). Every field has the JavaScript client's default unless noted.
public struct SocketIOClientConfiguration: Sendable {
    /// The Engine.IO path on the server. Default `/socket.io/`.
    public var path: String
    /// The Engine.IO session settings: transports (`[.polling, .websocket]` upgrades, `[.websocket]`
    /// opens a WebSocket only), headers, query, timeouts. Its `reconnectPolicy` is not used: the
    /// Socket.IO fields below govern reconnection.
    public var engineIO: EngineIOClientConfiguration
    /// Whether the manager reconnects after losing the connection for any reason but the two
    /// deliberate ones (``SocketIOClientDisconnectReason/allowsReconnection``). Default true.
    public var reconnection: Bool
    /// How many reconnection attempts in a row before giving up; `nil` never gives up (the
    /// JavaScript default, `Infinity`).
    public var reconnectionAttempts: Int?
    /// The delay before the first reconnection attempt; it doubles at each attempt. Default 1 s.
    public var reconnectionDelay: Duration
    /// The largest delay between attempts. Default 5 s.
    public var reconnectionDelayMax: Duration
    /// The jitter: each delay is moved by up to this fraction, up or down. Default 0.5; 0 turns
    /// jitter off.
    public var randomizationFactor: Double
    /// Whether a failure to open the very first session is retried like a lost connection
    /// (the JavaScript behaviour). Default false, as python-socketio's `connect(retry=False)`:
    /// ``SocketIOClientSocket/connect()`` then reports a dead server at once with
    /// ``SocketIOError/Code/connectFailed``.
    public var retriesInitialConnection: Bool
    /// The acknowledgement timeout of emits that give none (JavaScript `ackTimeout`); `nil`
    /// waits until the reply arrives or the connection is lost. Default nil.
    public var ackTimeout: Duration?
    /// How many times an unacknowledged emit is sent again (JavaScript `retries`). When
    /// positive, every non-volatile emit carries an ack id and emits go out one at a time, in
    /// order, each re-sent with the same id until the server acknowledges it (after
    /// ``ackTimeout`` without a reply, or after a reconnection). Default 0.
    public var retries: Int
    /// The most emits held for one namespace while it is not connected (buffered and queued for
    /// retries together); past it, emits fail with ``SocketIOError/Code/notConnected``. The
    /// JavaScript client has no bound. Default 1024.
    public var maxBufferedEmits: Int
    /// The largest attachment count accepted in a received binary packet. Default 10, as
    /// socket.io-parser.
    public var maxAttachments: Int
    /// The deepest JSON nesting accepted in a received packet. Default ``JSONValue/defaultMaxDepth``.
    public var maxDepth: Int
    /// Where the manager's metrics go (`Docs/Metrics.md`), those of its Engine.IO sessions and
    /// their WebSocket transport included: it replaces `engineIO.metricsFactory`. Default
    /// `MetricsSystem.factory`, the global factory as it is when the configuration is created (a
    /// no-op one unless the application bootstrapped the metrics system first).
    public var metricsFactory: any MetricsFactory

    /// Creates a configuration; every parameter has a default.
    public init(
        path: String = "/socket.io/",
        engineIO: EngineIOClientConfiguration = EngineIOClientConfiguration(),
        reconnection: Bool = true,
        reconnectionAttempts: Int? = nil,
        reconnectionDelay: Duration = .seconds(1),
        reconnectionDelayMax: Duration = .seconds(5),
        randomizationFactor: Double = 0.5,
        retriesInitialConnection: Bool = false,
        ackTimeout: Duration? = nil,
        retries: Int = 0,
        maxBufferedEmits: Int = 1024,
        maxAttachments: Int = 10,
        maxDepth: Int = JSONValue.defaultMaxDepth,
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.path = path
        self.engineIO = engineIO
        self.reconnection = reconnection
        self.reconnectionAttempts = reconnectionAttempts
        self.reconnectionDelay = reconnectionDelay
        self.reconnectionDelayMax = reconnectionDelayMax
        self.randomizationFactor = randomizationFactor
        self.retriesInitialConnection = retriesInitialConnection
        self.ackTimeout = ackTimeout
        self.retries = retries
        self.maxBufferedEmits = maxBufferedEmits
        self.maxAttachments = maxAttachments
        self.maxDepth = maxDepth
        self.metricsFactory = metricsFactory
    }

    /// The Engine.IO settings of each session, reporting to ``metricsFactory``.
    var engineIOSessionConfiguration: EngineIOClientConfiguration {
        var engineIO = engineIO
        engineIO.metricsFactory = metricsFactory
        return engineIO
    }

    /// The backoff these settings describe.
    var backoff: SocketIOClientBackoff {
        SocketIOClientBackoff(
            minimum: reconnectionDelay,
            maximum: reconnectionDelayMax,
            randomizationFactor: randomizationFactor
        )
    }

    /// Checks every field.
    ///
    /// - Throws: ``SocketIOError/Code/invalidConfiguration`` naming the first bad field.
    func validate() throws(SocketIOError) {
        guard path.hasPrefix("/") else {
            throw SocketIOError(.invalidConfiguration, "path must start with \"/\"")
        }
        if let reconnectionAttempts, reconnectionAttempts < 0 {
            throw SocketIOError(.invalidConfiguration, "reconnectionAttempts must not be negative")
        }
        guard reconnectionDelay >= .zero, reconnectionDelayMax >= reconnectionDelay else {
            throw SocketIOError(.invalidConfiguration, "need 0 <= reconnectionDelay <= reconnectionDelayMax")
        }
        guard (0...1).contains(randomizationFactor) else {
            throw SocketIOError(.invalidConfiguration, "randomizationFactor must be in 0...1")
        }
        if let ackTimeout, ackTimeout <= .zero {
            throw SocketIOError(.invalidConfiguration, "ackTimeout must be positive")
        }
        guard retries >= 0, maxBufferedEmits >= 0, maxAttachments >= 0, maxDepth >= 1 else {
            throw SocketIOError(
                .invalidConfiguration,
                "retries, maxBufferedEmits and maxAttachments must not be negative; maxDepth must be positive"
            )
        }
    }
}
