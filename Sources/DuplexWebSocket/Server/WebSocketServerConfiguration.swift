import DuplexWebSocketCore
import Metrics
import NIOSSL

/// Configuration of a ``WebSocketServer``. Every field has a safe default.
public struct WebSocketServerConfiguration: Sendable {
    /// The address to bind. Default `127.0.0.1`.
    public var host: String
    /// The port to bind; 0 picks a free port (see ``WebSocketServer/localAddress``). Default 8080.
    public var port: Int
    /// Frame and message limits. Default 1 MiB each.
    public var limits: WebSocketLimits
    /// The largest HTTP request head (request line + headers), in bytes; larger gets 431. Default 16 KiB.
    public var maxHeaderSize: Int
    /// The most header fields in a request; more gets 431. Default 100.
    public var maxHeaderCount: Int
    /// The largest body of a plain HTTP request, in bytes; larger gets 413. Default 1 MiB.
    public var maxRequestBodySize: Int
    /// Time allowed for a client to send a complete request head (slowloris protection), and
    /// idle time allowed between keep-alive HTTP requests. Default 10 s.
    public var handshakeTimeout: Duration
    /// Time allowed for the closing handshake. Default 10 s.
    public var closeTimeout: Duration
    /// Keepalive pings. Default: every 20 s, 20 s timeout.
    public var keepAlive: KeepAlive
    /// permessage-deflate accepted when a client offers it; nil disables compression. Default on.
    public var compression: PerMessageDeflateConfiguration?
    /// Subprotocols the server supports. The first one in the client's offer that appears here is
    /// selected, unless the upgrade hook chooses. Default none.
    public var subprotocols: [String]
    /// Which `Origin` values may open a WebSocket; others get 403 (cross-site WebSocket
    /// hijacking). Default: any.
    public var origins: OriginPolicy
    /// Validate text messages as UTF-8 (RFC 6455 §8.1). Default true.
    public var validatesUTF8: Bool
    /// TLS, for `wss://`. Default none.
    public var tls: TLSConfiguration?
    /// How long graceful shutdown waits for connections to finish their closing handshake after
    /// close code 1001 was sent, before dropping them. Default 10 s.
    public var shutdownGracePeriod: Duration
    /// The listen backlog. Default 256.
    public var backlog: Int32
    /// Where the server's metrics go (`Docs/Metrics.md`). Default `MetricsSystem.factory`, the
    /// global factory as it is when the configuration is created (a no-op one unless the
    /// application bootstrapped the metrics system first).
    public var metricsFactory: any MetricsFactory

    /// Creates a configuration.
    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        limits: WebSocketLimits = .default,
        maxHeaderSize: Int = 16 * 1024,
        maxHeaderCount: Int = 100,
        maxRequestBodySize: Int = 1 << 20,
        handshakeTimeout: Duration = .seconds(10),
        closeTimeout: Duration = .seconds(10),
        keepAlive: KeepAlive = .default,
        compression: PerMessageDeflateConfiguration? = .default,
        subprotocols: [String] = [],
        origins: OriginPolicy = .any,
        validatesUTF8: Bool = true,
        tls: TLSConfiguration? = nil,
        shutdownGracePeriod: Duration = .seconds(10),
        backlog: Int32 = 256,
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.host = host
        self.port = port
        self.limits = limits
        self.maxHeaderSize = maxHeaderSize
        self.maxHeaderCount = maxHeaderCount
        self.maxRequestBodySize = maxRequestBodySize
        self.handshakeTimeout = handshakeTimeout
        self.closeTimeout = closeTimeout
        self.keepAlive = keepAlive
        self.compression = compression
        self.subprotocols = subprotocols
        self.origins = origins
        self.validatesUTF8 = validatesUTF8
        self.tls = tls
        self.shutdownGracePeriod = shutdownGracePeriod
        self.backlog = backlog
        self.metricsFactory = metricsFactory
    }
}

/// Which `Origin` header values may open a WebSocket.
public struct OriginPolicy: Sendable {
    let isAllowed: @Sendable (String?) -> Bool

    /// Any origin, and requests without one.
    public static let any = OriginPolicy { _ in true }

    /// Only these origins (exact, case-insensitive match, e.g. `https://example.com`). Requests
    /// without an `Origin` header (non-browser clients) are allowed when `allowMissing` is true.
    public static func allowList(_ origins: [String], allowMissing: Bool = true) -> OriginPolicy {
        let allowed = Set(origins.map { $0.lowercased() })
        return OriginPolicy { origin in
            guard let origin else { return allowMissing }
            return allowed.contains(origin.lowercased())
        }
    }

    /// A custom predicate; receives nil when the request has no `Origin` header.
    public static func predicate(_ isAllowed: @escaping @Sendable (String?) -> Bool) -> OriginPolicy {
        OriginPolicy(isAllowed: isAllowed)
    }
}
