/// Per-emit flags, as the JavaScript client's `socket.volatile` and `socket.timeout(ms)`.
public struct SocketIOClientEmitOptions: Hashable, Sendable {
    /// A volatile emit is dropped instead of buffered when the socket is not connected, and is
    /// never retried (JavaScript `socket.volatile.emit`). Default false.
    public var isVolatile: Bool
    /// How long to wait for the acknowledgement of this emit (JavaScript `socket.timeout(ms)`);
    /// `nil` uses ``SocketIOClientConfiguration/ackTimeout``. With retries, this is the time
    /// allowed to each attempt.
    public var timeout: Duration?

    /// Creates options; the defaults buffer the emit while offline and use the configured
    /// acknowledgement timeout.
    public init(isVolatile: Bool = false, timeout: Duration? = nil) {
        self.isVolatile = isVolatile
        self.timeout = timeout
    }

    /// A volatile emit.
    public static var volatile: Self { Self(isVolatile: true) }

    /// An emit whose acknowledgement must arrive within `timeout`.
    public static func timeout(_ timeout: Duration) -> Self { Self(timeout: timeout) }
}
