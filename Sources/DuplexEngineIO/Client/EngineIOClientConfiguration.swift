import DuplexEngineIOCore
import DuplexWebSocket
import DuplexWebSocketCore
import HTTPTypes
import Metrics

/// Configuration of an Engine.IO client session. Every field has a safe default.
public struct EngineIOClientConfiguration: Sendable {
    /// The transports to use, in order: the session opens over the first one and, when
    /// ``allowsUpgrade`` is on and the server offers it, upgrades to `.websocket` listed later.
    /// Default `[.polling, .websocket]`; `[.websocket]` opens a WebSocket-only session and
    /// `[.polling]` never upgrades.
    public var transports: [EngineIOTransport]
    /// Whether a session opened over polling upgrades to WebSocket (protocol.md 4.1.7).
    /// Default true.
    public var allowsUpgrade: Bool
    /// Extra request headers sent with every polling request and the WebSocket handshake
    /// (`Authorization`, `Cookie`, `Origin` …). Default none.
    public var headers: HTTPFields
    /// Extra query parameters appended to every request, after the Engine.IO ones. Names
    /// reserved by the protocol (`EIO`, `transport`, `sid`, `t`) are rejected. Default none.
    public var query: [(name: String, value: String)]
    /// Time allowed to open the session: TCP, TLS and the handshake request. Default 20 s.
    public var openTimeout: Duration
    /// Time allowed for each POST, and added to `pingInterval + pingTimeout` for each
    /// long-polling GET. Default 20 s.
    public var requestTimeout: Duration
    /// Time allowed for an upgrade, from opening the probe WebSocket to sending `5`; when it
    /// passes, the client stays on polling. Default 10 s.
    public var upgradeTimeout: Duration
    /// The POST batch size used when the server's handshake carries no `maxPayload`
    /// (python-engineio before 4.11). Default 1,000,000 bytes.
    public var defaultMaxPayload: Int
    /// The most packets packed into one POST. Default 16, the most a python-engineio server
    /// decodes per payload (it silently drops a POST with more).
    public var maxPacketsPerPost: Int
    /// The largest polling response body accepted, in bytes. Default 16 MiB.
    public var maxResponseBodySize: Int
    /// The most packets accepted in one polling response. Default 4096.
    public var maxPacketsPerPayload: Int
    /// How many sent messages may wait for a transport before ``EngineIOClientSocket/send(_:)``
    /// waits for them to drain. Default 1024.
    public var maxBufferedSendCount: Int
    /// Settings of the WebSocket transport, and the TLS settings (`webSocket.tls`) used for
    /// `https` polling too. Its `headers` are ignored in favour of ``headers``. Default: the
    /// WebSocket client defaults with keepalive pings off (Engine.IO has its own heartbeat) and
    /// a 5 s close timeout.
    public var webSocket: WebSocketClientConfiguration
    /// When and how often ``EngineIOClient/connectReconnecting(to:configuration:eventLoopGroup:logger:_:)``
    /// reconnects. Default ``ReconnectPolicy/default``.
    public var reconnectPolicy: ReconnectPolicy
    /// Where the session's metrics go (`Docs/Metrics.md`), the WebSocket transport's included:
    /// it replaces `webSocket.metricsFactory`. Default `MetricsSystem.factory`, the global
    /// factory as it is when the configuration is created (a no-op one unless the application
    /// bootstrapped the metrics system first).
    public var metricsFactory: any MetricsFactory

    /// Creates a configuration; every parameter has a default.
    public init(
        transports: [EngineIOTransport] = [.polling, .websocket],
        allowsUpgrade: Bool = true,
        headers: HTTPFields = HTTPFields(),
        query: [(name: String, value: String)] = [],
        openTimeout: Duration = .seconds(20),
        requestTimeout: Duration = .seconds(20),
        upgradeTimeout: Duration = .seconds(10),
        defaultMaxPayload: Int = 1_000_000,
        maxPacketsPerPost: Int = 16,
        maxResponseBodySize: Int = 16 << 20,
        maxPacketsPerPayload: Int = 4096,
        maxBufferedSendCount: Int = 1024,
        webSocket: WebSocketClientConfiguration = WebSocketClientConfiguration(
            closeTimeout: .seconds(5),
            keepAlive: .disabled
        ),
        reconnectPolicy: ReconnectPolicy = .default,
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.transports = transports
        self.allowsUpgrade = allowsUpgrade
        self.headers = headers
        self.query = query
        self.openTimeout = openTimeout
        self.requestTimeout = requestTimeout
        self.upgradeTimeout = upgradeTimeout
        self.defaultMaxPayload = defaultMaxPayload
        self.maxPacketsPerPost = maxPacketsPerPost
        self.maxResponseBodySize = maxResponseBodySize
        self.maxPacketsPerPayload = maxPacketsPerPayload
        self.maxBufferedSendCount = maxBufferedSendCount
        self.webSocket = webSocket
        self.reconnectPolicy = reconnectPolicy
        self.metricsFactory = metricsFactory
    }

    /// The sans-I/O session settings these options amount to.
    var sessionConfiguration: EngineIOClientSession.Configuration {
        EngineIOClientSession.Configuration(
            transports: allowsUpgrade ? transports : Array(transports.prefix(1)),
            upgradeTimeout: upgradeTimeout,
            maxPacketsPerPayload: maxPacketsPerPayload,
            defaultMaxPayload: defaultMaxPayload,
            maxPacketsPerPost: maxPacketsPerPost
        )
    }

    /// Checks every field.
    ///
    /// - Throws: ``EngineIOError/Code/invalidConfiguration`` naming the first bad field.
    func validate() throws(EngineIOError) {
        try sessionConfiguration.validate()
        guard openTimeout > .zero, requestTimeout > .zero else {
            throw EngineIOError(.invalidConfiguration, "openTimeout and requestTimeout must be positive")
        }
        guard maxResponseBodySize >= 1, maxBufferedSendCount >= 1 else {
            throw EngineIOError(.invalidConfiguration, "maxResponseBodySize and maxBufferedSendCount must be at least 1")
        }
        let reserved: Set<String> = ["EIO", "transport", "sid", "t"]
        if let name = query.first(where: { reserved.contains($0.name) || $0.name.isEmpty })?.name {
            throw EngineIOError(.invalidConfiguration, "query parameter \"\(name)\" is reserved or empty")
        }
    }
}
