/// Keepalive pings (RFC 6455 §5.5.2: "A Ping frame MAY serve either as a keepalive or as a
/// means to verify that the remote endpoint is still responsive").
public struct KeepAlive: Hashable, Sendable {
    /// Time between keepalive pings; nil disables them.
    public var interval: Duration?
    /// How long to wait for the pong before failing the connection with close code 1011.
    public var timeout: Duration

    /// No keepalive pings.
    public static let disabled = KeepAlive(interval: nil, timeout: .seconds(20))

    /// Ping every `interval`, fail the connection if no pong arrives within `timeout`.
    public static func enabled(interval: Duration, timeout: Duration) -> KeepAlive {
        KeepAlive(interval: interval, timeout: timeout)
    }

    /// The default of Python `websockets`: ping every 20 s, wait 20 s for the pong.
    public static let `default` = KeepAlive.enabled(interval: .seconds(20), timeout: .seconds(20))

    private init(interval: Duration?, timeout: Duration) {
        self.interval = interval
        self.timeout = timeout
    }
}
