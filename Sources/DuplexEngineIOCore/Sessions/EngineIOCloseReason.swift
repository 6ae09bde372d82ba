/// Why a session closed, as reported to the application. Open: reasons may be added.
///
/// The descriptions are python-engineio's `reason` constants (`base_server.py`) plus the
/// reference server's "parse error".
public struct EngineIOCloseReason: Hashable, Sendable, CustomStringConvertible {
    private let name: String
    private init(_ name: String) { self.name = name }

    /// The application closed the session.
    public static let serverDisconnect = EngineIOCloseReason("server disconnect")
    /// The peer sent a `close` packet.
    public static let clientDisconnect = EngineIOCloseReason("client disconnect")
    /// No pong (v4) or no packet at all (v3) arrived in time.
    public static let pingTimeout = EngineIOCloseReason("ping timeout")
    /// The transport closed without a `close` packet.
    public static let transportClose = EngineIOCloseReason("transport close")
    /// The transport failed, or the peer broke a transport rule (a second concurrent GET or
    /// POST, a ping from a v4 client, an oversized or binary-typed v4 body).
    public static let transportError = EngineIOCloseReason("transport error")
    /// The peer sent a malformed packet or payload.
    public static let parseError = EngineIOCloseReason("parse error")
    /// More was queued for the client than the server's hard limit allows (the client does not
    /// read, and the application queued without waiting); the queued messages are dropped.
    public static let sendBufferFull = EngineIOCloseReason("send buffer full")

    public var description: String { name }
}
