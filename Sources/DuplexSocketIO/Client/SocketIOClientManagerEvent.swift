import DuplexSocketIOCore
import DuplexEngineIO

/// What happens to a manager's Engine.IO connection (the JavaScript `Manager` events).
public enum SocketIOClientManagerEvent: Sendable, Hashable {
    /// A session opened (JavaScript `open`), with its Engine.IO id and first transport.
    case open(engineSessionID: String, transport: EngineIOTransport)
    /// The session moved to another transport (the upgrade to WebSocket).
    case transport(EngineIOTransport)
    /// The session ended (JavaScript `close`).
    case close(SocketIOClientDisconnectReason)
    /// Opening a session failed (JavaScript `error`); the code is
    /// ``SocketIOError/Code/connectFailed`` with the ``EngineIOError`` as cause.
    case error(SocketIOError)
    /// Reconnection attempt number N (from 1) is starting (JavaScript `reconnect_attempt`).
    case reconnectAttempt(Int)
    /// A session opened after N attempts (JavaScript `reconnect`).
    case reconnect(Int)
    /// Reconnection gave up after ``SocketIOClientConfiguration/reconnectionAttempts``
    /// (JavaScript `reconnect_failed`).
    case reconnectFailed
}
