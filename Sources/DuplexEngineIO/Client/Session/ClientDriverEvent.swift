import DuplexEngineIOCore

/// What happened, as reported to a ``ClientSessionDriver`` by its workers, its timer, the
/// application's socket and the message sequence's consumer. The driver handles them one at a
/// time, in order.
enum ClientDriverEvent: Sendable {
    /// The handshake or a long-polling GET finished.
    case pollCompleted(Result<ClientPollingResponse, EngineIOError>)
    /// A POST finished.
    case postCompleted(Result<ClientPollingResponse, EngineIOError>)
    /// The WebSocket of transport `id` is open.
    case webSocketOpened(id: Int)
    /// A message arrived on the WebSocket of transport `id`.
    case webSocketReceived(id: Int, EngineIOWebSocketFrame)
    /// Transport `id` wrote every message queued on it.
    case webSocketDrained(id: Int)
    /// The WebSocket of transport `id` closed (`nil`) or failed.
    case webSocketEnded(id: Int, error: EngineIOError?)
    /// The session's timer fired.
    case timerFired
    /// The application sends a message; the send registered as `id` in the
    /// ``ClientSocketState`` is resumed once the session took it.
    case send(EngineIOPacketData, id: Int)
    /// The application closes the session.
    case close
    /// The application reads messages again after falling behind.
    case readResumed
    /// The application dropped the message sequence.
    case readerGone
}
