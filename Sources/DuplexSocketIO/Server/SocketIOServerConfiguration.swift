import DuplexEngineIO
import DuplexSocketIOCore
import Metrics

/// Configuration of a ``SocketIOServer``. Defaults follow the reference server (socket.io 4.8),
/// except where a comment says otherwise.
public struct SocketIOServerConfiguration: Sendable {
    /// The Engine.IO server underneath (heartbeat, transports, CORS, `maxHttpBufferSize`…).
    /// Default: ``EngineIOServerConfiguration``'s defaults.
    public var engine: EngineIOServerConfiguration
    /// How long a new Engine.IO session may stay without joining any namespace before it is
    /// closed (socket.io `connectTimeout`). Default 45 s.
    public var connectTimeout: Duration
    /// The most binary attachments accepted in one packet (socket.io-parser `maxAttachments`);
    /// more closes the session. Default 10.
    public var maxAttachments: Int
    /// The deepest nesting of arrays and objects accepted in a payload; deeper closes the
    /// session. Default ``JSONValue/defaultMaxDepth`` (32).
    public var maxJSONDepth: Int
    /// The timeout of ``SocketIOSocket/emitWithAck(_:_:timeout:)`` and broadcast acks when none
    /// is given. Default 60 s (python-socketio `call`; the reference server waits forever).
    public var ackTimeout: Duration
    /// The most Engine.IO messages queued for one client that its transport has not taken yet.
    /// A client past this limit is slow or gone: it is disconnected ("forced server close")
    /// instead of growing memory without bound; broadcasts to the others are not delayed.
    /// Default 10,000 (the reference server has no limit).
    public var maxBufferedMessages: Int
    /// Connection state recovery (socket.io ≥ 4.6, protocol.md 4.2.8). Default nil (off).
    public var connectionStateRecovery: SocketIOConnectionStateRecovery?
    /// Whether each event runs its handlers in its own task, concurrently with the socket's
    /// other events (python-socketio `async_handlers=True`). Default false: a socket's events
    /// run one after the other in arrival order, as the reference server dispatches them.
    /// Acknowledgements are never delayed by running handlers either way.
    public var concurrentEventHandlers: Bool
    /// Where the server's metrics go (`Docs/Metrics.md`), those of the Engine.IO server it
    /// creates included: it replaces `engine.metricsFactory`. Default `MetricsSystem.factory`,
    /// the global factory as it is when the configuration is created (a no-op one unless the
    /// application bootstrapped the metrics system first).
    public var metricsFactory: any MetricsFactory

    /// Whether Engine.IO v3 clients (Socket.IO 2.x, protocol v4) are accepted; the same
    /// setting as `engine.allowEIO3`. Default false.
    public var allowEIO3: Bool {
        get { engine.allowEIO3 }
        set { engine.allowEIO3 = newValue }
    }

    /// Creates a configuration; every parameter has the default documented on its property.
    public init(
        engine: EngineIOServerConfiguration = EngineIOServerConfiguration(),
        connectTimeout: Duration = .seconds(45),
        maxAttachments: Int = 10,
        maxJSONDepth: Int = JSONValue.defaultMaxDepth,
        ackTimeout: Duration = .seconds(60),
        maxBufferedMessages: Int = 10_000,
        connectionStateRecovery: SocketIOConnectionStateRecovery? = nil,
        concurrentEventHandlers: Bool = false,
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.engine = engine
        self.connectTimeout = connectTimeout
        self.maxAttachments = maxAttachments
        self.maxJSONDepth = maxJSONDepth
        self.ackTimeout = ackTimeout
        self.maxBufferedMessages = maxBufferedMessages
        self.connectionStateRecovery = connectionStateRecovery
        self.concurrentEventHandlers = concurrentEventHandlers
        self.metricsFactory = metricsFactory
    }

    /// Checks the settings.
    ///
    /// - Throws: ``SocketIOError/Code/invalidConfiguration`` for a non-positive timeout or
    ///   limit, or an invalid Engine.IO configuration (as the cause).
    public func validate() throws(SocketIOError) {
        do {
            try engine.validate()
        } catch {
            throw SocketIOError(.invalidConfiguration, "invalid Engine.IO configuration: \(error.message)", cause: error)
        }
        guard connectTimeout > .zero, ackTimeout > .zero else {
            throw SocketIOError(.invalidConfiguration, "connectTimeout and ackTimeout must be positive")
        }
        guard maxAttachments >= 0, maxJSONDepth > 0, maxBufferedMessages > 0 else {
            throw SocketIOError(
                .invalidConfiguration,
                "maxAttachments must not be negative; maxJSONDepth and maxBufferedMessages must be positive"
            )
        }
        if let recovery = connectionStateRecovery, recovery.maxDisconnectionDuration <= .zero {
            throw SocketIOError(.invalidConfiguration, "maxDisconnectionDuration must be positive")
        }
    }
}

/// Connection state recovery settings (socket.io `connectionStateRecovery`).
public struct SocketIOConnectionStateRecovery: Sendable {
    /// How long the state of a disconnected socket (id, rooms, data, missed packets) is kept.
    /// Default 2 minutes.
    public var maxDisconnectionDuration: Duration
    /// Whether a recovered connection skips the middlewares. Default true.
    public var skipMiddlewares: Bool
    /// The state a previous run of the server saved with
    /// ``SocketIOServer/recoverySnapshot(timeout:)`` after its ``SocketIOServer/shutdown()``:
    /// clients that were connected to it reconnect to this server recovered (same id, rooms,
    /// data, and the packets broadcast while they were away, including those broadcast by this
    /// server before they came back). Each namespace gets its part when it is created, so
    /// dynamic namespaces get theirs on their first connection. Entries older than
    /// ``maxDisconnectionDuration`` on the wall clock, the downtime included, are dropped.
    /// Default nil.
    public var restoring: SocketIORecoverySnapshot?

    /// Creates the settings.
    public init(
        maxDisconnectionDuration: Duration = .seconds(120),
        skipMiddlewares: Bool = true,
        restoring: SocketIORecoverySnapshot? = nil
    ) {
        self.maxDisconnectionDuration = maxDisconnectionDuration
        self.skipMiddlewares = skipMiddlewares
        self.restoring = restoring
    }
}
