import NIOCore

/// What a client session asks its adapter to do; drained with
/// ``EngineIOClientSession/nextAction()`` after every input and executed in order.
public enum EngineIOClientSessionAction: Hashable, Sendable, CustomStringConvertible {
    /// Open the session: a GET `?EIO=4&transport=polling` or a WebSocket `?EIO=4&transport=websocket`,
    /// without `sid`.
    case sendHandshake(EngineIOTransport)
    /// Issue a polling GET with the session's `sid`.
    case sendPoll
    /// Issue a polling POST with the session's `sid` and this body.
    case sendPost(EngineIOPollingBody)
    /// Open the probe WebSocket, `?EIO=4&transport=websocket&sid=…` (protocol.md 4.1.7 step 1).
    case openWebSocket
    /// Send this message on the session's WebSocket.
    case writeWebSocket(EngineIOWebSocketFrame)
    /// Close the session's WebSocket and detach it: events from it must no longer be fed in.
    case closeWebSocket
    /// The handshake completed: the session is open.
    case opened(EngineIOHandshake)
    /// Hand a message to the application.
    case deliver(EngineIOPacketData)
    /// (Re)arm the session's single timer at this deadline.
    case scheduleTimer(NIODeadline)
    /// Disarm the timer.
    case cancelTimer
    /// The session now runs over its WebSocket.
    case upgradeCompleted
    /// The upgrade failed; the session goes on over polling and nothing was lost.
    case upgradeFailed(EngineIOError)
    /// The session could not be opened. Terminal.
    case openFailed(EngineIOError)
    /// The session is over; abandon in-flight requests. Terminal.
    case closeSession(EngineIOCloseReason)

    public var description: String {
        switch self {
        case .sendHandshake(let transport): return "sendHandshake(\(transport))"
        case .sendPoll: return "sendPoll"
        case .sendPost(let body): return "sendPost(\(body))"
        case .openWebSocket: return "openWebSocket"
        case .writeWebSocket(let frame): return "writeWebSocket(\(frame))"
        case .closeWebSocket: return "closeWebSocket"
        case .opened(let handshake): return "opened(\(handshake.sid))"
        case .deliver(let data): return "deliver(\(data))"
        case .scheduleTimer(let deadline): return "scheduleTimer(\(deadline.uptimeNanoseconds))"
        case .cancelTimer: return "cancelTimer"
        case .upgradeCompleted: return "upgradeCompleted"
        case .upgradeFailed(let error): return "upgradeFailed(\(error.code))"
        case .openFailed(let error): return "openFailed(\(error.code))"
        case .closeSession(let reason): return "closeSession(\(reason))"
        }
    }
}
