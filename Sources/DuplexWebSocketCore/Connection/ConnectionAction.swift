import NIOCore

/// What the I/O adapter must do, in order, after feeding an input to a ``ConnectionStateMachine``.
///
/// The two cases that end a connection are `indirect`: they occur once per connection, and
/// inline they made every action 168 bytes wide, so the machine's action queue (kept for the
/// connection's life) cost ~1.3 KB per connection instead of ~0.3 KB.
public enum ConnectionAction: Equatable {
    /// Write these bytes to the transport (a frame, or the header or payload of one).
    case write(ByteBuffer)
    /// Hand a complete message to the application.
    case deliver(WebSocketMessage)
    /// A pong arrived with this payload (resolves pending `ping()` calls).
    case pongReceived(ByteBuffer)
    /// Close the TCP connection now.
    case closeTransport
    /// Call ``ConnectionStateMachine/timerFired(now:)`` at this deadline; replaces any earlier timer.
    case scheduleTimer(NIODeadline)
    /// The connection failed; a close frame with ``WebSocketError/closeCode`` has already been
    /// queued when the transport allowed it.
    indirect case failed(WebSocketError)
    /// The connection is over. `error` is nil when it ended with a normal closing handshake.
    indirect case closed(CloseInfo, error: WebSocketError?)
}
