import DuplexWebSocketCore
import HTTPTypes
import Metrics
import NIOSSL

/// Configuration of a client connection. Every field has a safe default.
public struct WebSocketClientConfiguration: Sendable {
    /// Extra request headers (`Authorization`, `Origin`, `User-Agent`, cookies …).
    public var headers: HTTPFields
    /// Subprotocols to offer, in order of preference.
    public var subprotocols: [String]
    /// permessage-deflate to offer; nil offers no compression. Default on.
    public var compression: PerMessageDeflateConfiguration?
    /// Frame and message limits. Default 1 MiB each.
    public var limits: WebSocketLimits
    /// The largest response head accepted, in bytes. Default 16 KiB.
    public var maxHeaderSize: Int
    /// The most response header fields accepted. Default 128.
    public var maxHeaderCount: Int
    /// Time allowed for TCP + TLS + proxy + HTTP upgrade, redirects included. Default 10 s.
    public var openTimeout: Duration
    /// Time allowed for the closing handshake. Default 10 s.
    public var closeTimeout: Duration
    /// Keepalive pings. Default: every 20 s, 20 s timeout.
    public var keepAlive: KeepAlive
    /// How many redirects (301, 302, 303, 307, 308 with `Location`) to follow. Default 10.
    public var maxRedirects: Int
    /// An HTTP proxy to tunnel through with CONNECT. Default none; see
    /// ``WebSocketProxy/fromEnvironment(_:for:)`` to honour `http_proxy`/`https_proxy`/`no_proxy`.
    public var proxy: WebSocketProxy?
    /// TLS settings for `wss://`. Default: system trust roots, full verification.
    public var tls: TLSConfiguration
    /// Validate text messages as UTF-8 (RFC 6455 §8.1). Default true.
    public var validatesUTF8: Bool
    /// Where the connection's metrics go (`Docs/Metrics.md`). Default `MetricsSystem.factory`,
    /// the global factory as it is when the configuration is created (a no-op one unless the
    /// application bootstrapped the metrics system first).
    public var metricsFactory: any MetricsFactory

    /// Creates a configuration.
    public init(
        headers: HTTPFields = HTTPFields(),
        subprotocols: [String] = [],
        compression: PerMessageDeflateConfiguration? = .default,
        limits: WebSocketLimits = .default,
        maxHeaderSize: Int = 16 * 1024,
        maxHeaderCount: Int = 128,
        openTimeout: Duration = .seconds(10),
        closeTimeout: Duration = .seconds(10),
        keepAlive: KeepAlive = .default,
        maxRedirects: Int = 10,
        proxy: WebSocketProxy? = nil,
        tls: TLSConfiguration = .makeClientConfiguration(),
        validatesUTF8: Bool = true,
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.headers = headers
        self.subprotocols = subprotocols
        self.compression = compression
        self.limits = limits
        self.maxHeaderSize = maxHeaderSize
        self.maxHeaderCount = maxHeaderCount
        self.openTimeout = openTimeout
        self.closeTimeout = closeTimeout
        self.keepAlive = keepAlive
        self.maxRedirects = maxRedirects
        self.proxy = proxy
        self.tls = tls
        self.validatesUTF8 = validatesUTF8
        self.metricsFactory = metricsFactory
    }
}

/// An HTTP proxy reached with `CONNECT host:port` (RFC 9110 §9.3.6).
public struct WebSocketProxy: Sendable, Hashable {
    /// The proxy's host.
    public var host: String
    /// The proxy's port.
    public var port: Int
    /// A `Proxy-Authorization` value, if the proxy needs one.
    public var authorization: String?

    /// Creates a proxy setting.
    public init(host: String, port: Int, authorization: String? = nil) {
        self.host = host
        self.port = port
        self.authorization = authorization
    }

    /// The proxy that `http_proxy`/`https_proxy` (or their upper-case forms) name for `url`,
    /// unless `no_proxy` excludes its host. Pass the process environment explicitly
    /// (`ProcessInfo.processInfo.environment`): the library itself never reads it.
    public static func fromEnvironment(_ environment: [String: String], for url: WebSocketURL) -> WebSocketProxy? {
        func value(_ name: String) -> String? { environment[name] ?? environment[name.uppercased()] }
        if let noProxy = value("no_proxy") {
            let host = url.host.lowercased()
            for entry in noProxy.split(separator: ",").map({ $0.filter { $0 != " " && $0 != "\t" }.lowercased() }) where !entry.isEmpty {
                if entry == "*" { return nil }
                let suffix = entry.hasPrefix(".") ? String(entry.dropFirst()) : entry
                if host == suffix || host.hasSuffix("." + suffix) { return nil }
            }
        }
        guard let raw = value(url.isSecure ? "https_proxy" : "http_proxy") ?? (url.isSecure ? value("http_proxy") : nil), !raw.isEmpty else {
            return nil
        }
        var rest = Substring(raw)
        if let schemeEnd = rest.firstRange(of: "://") { rest = rest[schemeEnd.upperBound...] }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        var authorization: String?
        if let at = rest.lastIndex(of: "@") {
            authorization = "Basic " + Base64Encoding.encode(Array(rest[..<at].utf8))
            rest = rest[rest.index(after: at)...]
        }
        let host: Substring
        let port: Int
        if let colon = rest.lastIndex(of: ":"), let parsed = Int(rest[rest.index(after: colon)...]) {
            host = rest[..<colon]
            port = parsed
        } else {
            host = rest
            port = 80
        }
        guard !host.isEmpty else { return nil }
        return WebSocketProxy(host: String(host), port: port, authorization: authorization)
    }
}

