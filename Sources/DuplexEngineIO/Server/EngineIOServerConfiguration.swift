import DuplexEngineIOCore
import Metrics

/// Configuration of an ``EngineIOServer``. Every field has the reference server's default
/// (`packages/engine.io/lib/server.ts`), except where a comment says otherwise.
public struct EngineIOServerConfiguration: Sendable {
    /// Decides whether a handshake may open a session; runs before the session exists.
    public typealias AllowRequest = @Sendable (EngineIOHandshakeRequest) async -> EngineIOHandshakeDecision

    /// How often the server pings (v4; v3 clients ping at this interval). Default 25 s.
    public var pingInterval: Duration
    /// How long the server waits for the pong before closing the session with
    /// ``EngineIOCloseReason/pingTimeout``. Default 20 s.
    public var pingTimeout: Duration
    /// How long a client has, once its probe WebSocket is open, to complete the upgrade with
    /// `5`; then the probe is closed and the session stays on polling. Default 10 s.
    public var upgradeTimeout: Duration
    /// How long a server-initiated close over polling waits for a GET to carry the `close`
    /// packet. Default 30 s.
    public var closeTimeout: Duration
    /// The largest POST body and WebSocket message accepted, in bytes, announced to clients as
    /// `maxPayload`; a larger POST gets 413 and closes the session. Default 1,000,000.
    public var maxHttpBufferSize: Int
    /// The transports clients may use. Default `[.polling, .websocket]`.
    public var transports: [EngineIOTransport]
    /// Whether sessions opened over polling may upgrade to WebSocket. Default true.
    public var allowUpgrades: Bool
    /// The most packets in one polling response; the rest go out in the next poll. Default 16,
    /// because python-engineio clients refuse payloads of more than 16 packets
    /// (`Payload.max_decode_packets`).
    public var maxPacketsPerPoll: Int
    /// The most packets accepted in one POST; a POST with more gets 400 and closes the session.
    /// Default 10,000. Not 16: python-engineio and engine.io-client put every queued packet in
    /// one POST (python-engineio `AsyncClient._write_loop`, engine.io-client `Polling.write`),
    /// so a low cap would drop legitimate sessions after a burst; ``maxHttpBufferSize`` bounds
    /// the bytes.
    public var maxPacketsPerPost: Int
    /// Cross-origin requests from browsers. Default ``EngineIOCORSPolicy/disabled`` (no CORS
    /// headers; the browser's same-origin policy applies).
    public var cors: EngineIOCORSPolicy
    /// The session cookie set on the handshake response (sticky sessions behind a load
    /// balancer). Default none.
    public var cookie: EngineIOCookie?
    /// Runs on every handshake (polling GET or WebSocket without `sid`); a refusal is answered
    /// with its status and `{"code":4,"message":…}`. Default none (every handshake allowed).
    public var allowRequest: AllowRequest?
    /// Compression of large polling responses. Default ``EngineIOHTTPCompression/default``
    /// (gzip or deflate from 1024 bytes, when the client accepts it).
    public var httpCompression: EngineIOHTTPCompression?
    /// Whether the WebSocket transport accepts permessage-deflate (when the server's WebSocket
    /// configuration enables it). Default false.
    public var perMessageDeflate: Bool
    /// Whether Engine.IO v3 clients (Socket.IO 2.x) are accepted; otherwise they get
    /// `{"code":5,"message":"Unsupported protocol version"}`. Default false.
    public var allowEIO3: Bool
    /// How much may be queued for a client (polling outbox plus WebSocket write queue) before
    /// ``EngineIOSocket/send(_:)`` waits, in bytes; each message counts its payload plus 64 bytes
    /// (``EngineIOServerSession/queuedMessageOverhead``). Default 1 MiB. Not in the reference
    /// server, which queues without limit (DESIGN.md: "a slow peer makes `send` wait").
    public var sendHighWaterMark: Int
    /// Once `send` waits, the queue size at or below which it resumes, in bytes. Default 512 KiB.
    public var sendLowWaterMark: Int
    /// The most that may be queued for a client, in bytes: ``EngineIOSocket/enqueue(_:volatile:bufferLimit:)``,
    /// which never waits, closes the session with ``EngineIOCloseReason/sendBufferFull`` rather
    /// than go past it. Default 16 MiB.
    public var maxSendBufferSize: Int
    /// How much of the client's messages may wait for the application to take them from
    /// ``EngineIOSocket/messages``, in bytes (counted like ``sendHighWaterMark``). Above it the
    /// server stops reading the client's WebSocket (the heartbeat's pong deadline is suspended
    /// meanwhile), and answers its polling POSTs only once the application has caught up to half
    /// of it; one more WebSocket message or POST body can arrive past it. Default 1 MiB. Not in
    /// the reference server (DESIGN.md: "a slow reader stops socket reads").
    public var receiveBufferLimit: Int
    /// Where the server's metrics go (`Docs/Metrics.md`). Default `MetricsSystem.factory`, the
    /// global factory as it is when the configuration is created (a no-op one unless the
    /// application bootstrapped the metrics system first). The WebSocket connections the
    /// Engine.IO server rides on are counted by the HTTP server that accepts them (for Duplex's
    /// own, `WebSocketServerConfiguration.metricsFactory`).
    public var metricsFactory: any MetricsFactory

    /// Creates a configuration; every parameter has the default documented on its property.
    public init(
        pingInterval: Duration = .seconds(25),
        pingTimeout: Duration = .seconds(20),
        upgradeTimeout: Duration = .seconds(10),
        closeTimeout: Duration = .seconds(30),
        maxHttpBufferSize: Int = 1_000_000,
        transports: [EngineIOTransport] = [.polling, .websocket],
        allowUpgrades: Bool = true,
        maxPacketsPerPoll: Int = 16,
        maxPacketsPerPost: Int = 10_000,
        cors: EngineIOCORSPolicy = .disabled,
        cookie: EngineIOCookie? = nil,
        allowRequest: AllowRequest? = nil,
        httpCompression: EngineIOHTTPCompression? = .default,
        perMessageDeflate: Bool = false,
        allowEIO3: Bool = false,
        sendHighWaterMark: Int = 1 << 20,
        sendLowWaterMark: Int = 1 << 19,
        maxSendBufferSize: Int = 16 << 20,
        receiveBufferLimit: Int = 1 << 20,
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.upgradeTimeout = upgradeTimeout
        self.closeTimeout = closeTimeout
        self.maxHttpBufferSize = maxHttpBufferSize
        self.transports = transports
        self.allowUpgrades = allowUpgrades
        self.maxPacketsPerPoll = maxPacketsPerPoll
        self.maxPacketsPerPost = maxPacketsPerPost
        self.cors = cors
        self.cookie = cookie
        self.allowRequest = allowRequest
        self.httpCompression = httpCompression
        self.perMessageDeflate = perMessageDeflate
        self.allowEIO3 = allowEIO3
        self.sendHighWaterMark = sendHighWaterMark
        self.sendLowWaterMark = sendLowWaterMark
        self.maxSendBufferSize = maxSendBufferSize
        self.receiveBufferLimit = receiveBufferLimit
        self.metricsFactory = metricsFactory
    }

    /// The buffer limits of each session.
    var flowControl: ServerSession.FlowControl {
        ServerSession.FlowControl(
            sendHighWaterMark: sendHighWaterMark,
            sendLowWaterMark: sendLowWaterMark,
            maxSendBufferSize: maxSendBufferSize,
            receiveBufferLimit: receiveBufferLimit
        )
    }

    /// The protocol settings of each session.
    var sessionConfiguration: EngineIOServerSession.Configuration {
        EngineIOServerSession.Configuration(
            pingInterval: pingInterval,
            pingTimeout: pingTimeout,
            upgradeTimeout: upgradeTimeout,
            closeTimeout: closeTimeout,
            maxPayload: maxHttpBufferSize,
            maxPacketsPerPayload: maxPacketsPerPost,
            maxPacketsPerResponse: maxPacketsPerPoll,
            upgrades: allowUpgrades && transports.contains(.websocket) && transports.contains(.polling)
                ? [.websocket] : []
        )
    }

    /// Checks the settings.
    ///
    /// - Throws: ``EngineIOError/Code/invalidConfiguration`` for a non-positive interval or
    ///   limit, an empty or unknown transport list, a compression threshold below zero, or buffer
    ///   marks out of order (`0 <= sendLowWaterMark < sendHighWaterMark <= maxSendBufferSize`).
    public func validate() throws(EngineIOError) {
        try sessionConfiguration.validate()
        guard sendLowWaterMark >= 0, sendLowWaterMark < sendHighWaterMark, sendHighWaterMark <= maxSendBufferSize else {
            throw EngineIOError(
                .invalidConfiguration,
                "send buffer marks must satisfy 0 <= sendLowWaterMark < sendHighWaterMark <= maxSendBufferSize"
            )
        }
        guard receiveBufferLimit >= 1 else {
            throw EngineIOError(.invalidConfiguration, "receiveBufferLimit must be at least 1")
        }
        guard !transports.isEmpty, transports.allSatisfy({ $0 == .polling || $0 == .websocket }) else {
            throw EngineIOError(.invalidConfiguration, "transports must be a non-empty subset of polling, websocket")
        }
        if let httpCompression, httpCompression.threshold < 0 {
            throw EngineIOError(.invalidConfiguration, "httpCompression.threshold must not be negative")
        }
    }
}
