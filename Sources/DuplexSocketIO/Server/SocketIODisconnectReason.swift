/// Why a socket left its namespace, as the reference server names it (protocol.md 4.2.7).
/// Open: reasons may be added; compare with the constants.
public struct SocketIODisconnectReason: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The reference server's string.
    public let rawValue: String

    /// Wraps a reason string.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The server disconnected the socket (``SocketIOSocket/disconnect(close:)``).
    public static let serverNamespaceDisconnect = Self(rawValue: "server namespace disconnect")
    /// The client sent DISCONNECT for the namespace.
    public static let clientNamespaceDisconnect = Self(rawValue: "client namespace disconnect")
    /// The server is shutting down.
    public static let serverShuttingDown = Self(rawValue: "server shutting down")
    /// The client stopped answering pings.
    public static let pingTimeout = Self(rawValue: "ping timeout")
    /// The client closed the connection.
    public static let transportClose = Self(rawValue: "transport close")
    /// The connection failed.
    public static let transportError = Self(rawValue: "transport error")
    /// The client sent a packet that does not decode or breaks the protocol.
    public static let parseError = Self(rawValue: "parse error")
    /// The client closed the Engine.IO session.
    public static let forcedClose = Self(rawValue: "forced close")
    /// The server closed the Engine.IO session (``SocketIOSocket/disconnect(close:)`` with
    /// `close`, or a client too slow to take its messages).
    public static let forcedServerClose = Self(rawValue: "forced server close")

    /// Whether connection state recovery keeps the socket's state after this reason (socket.io
    /// `RECOVERABLE_DISCONNECT_REASONS`): the transport was lost, not a deliberate disconnect.
    public var isRecoverable: Bool {
        switch self {
        case .transportError, .transportClose, .forcedClose, .pingTimeout, .serverShuttingDown, .forcedServerClose:
            return true
        default:
            return false
        }
    }

    public var description: String { rawValue }
}
