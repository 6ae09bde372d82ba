/// Why a client socket left its namespace, with the strings of the JavaScript client
/// (socket.io-client v4, `Socket.DisconnectReason`), so logs and dashboards read the same.
///
/// Only ``ioServerDisconnect`` and ``ioClientDisconnect`` stop the socket for good; after any
/// other reason the manager reconnects (when ``SocketIOClientConfiguration/reconnection`` is on)
/// and the socket rejoins its namespace.
public struct SocketIOClientDisconnectReason: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The JavaScript client's string.
    public let rawValue: String

    /// Wraps a reason string.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The server sent DISCONNECT for the namespace (or closed the socket with
    /// `disconnect(true)`); no automatic reconnection.
    public static let ioServerDisconnect = Self(rawValue: "io server disconnect")
    /// The application disconnected the socket or closed the manager.
    public static let ioClientDisconnect = Self(rawValue: "io client disconnect")
    /// The server stopped sending pings within `pingInterval + pingTimeout`.
    public static let pingTimeout = Self(rawValue: "ping timeout")
    /// The connection was closed (by the server, or the network dropped it cleanly).
    public static let transportClose = Self(rawValue: "transport close")
    /// The connection failed (reset, HTTP error while polling).
    public static let transportError = Self(rawValue: "transport error")
    /// The server sent something that is not a valid Engine.IO or Socket.IO packet; the client
    /// closed the connection.
    public static let parseError = Self(rawValue: "parse error")

    /// Whether the manager reconnects after this reason (all but the two deliberate ones).
    public var allowsReconnection: Bool { self != .ioServerDisconnect && self != .ioClientDisconnect }

    public var description: String { rawValue }
}
