import NIOCore

/// What a server session asks its adapter to do; drained with
/// ``EngineIOServerSession/nextAction()`` after every input and executed in order.
public enum EngineIOServerSessionAction: Hashable, Sendable, CustomStringConvertible {
    /// Answer the pending polling GET with status 200 and this body.
    case answerPoll(EngineIOPollingBody)
    /// Send this message on the session's WebSocket (the probe during an upgrade, else the
    /// session's transport).
    case writeWebSocket(EngineIOWebSocketFrame)
    /// Close the session's WebSocket and detach it: events from it must no longer be fed in.
    case closeWebSocket
    /// Hand a message to the application.
    case deliver(EngineIOPacketData)
    /// (Re)arm the session's single timer: call ``EngineIOServerSession/timerFired(now:)`` at
    /// this deadline. Replaces any earlier deadline.
    case scheduleTimer(NIODeadline)
    /// Disarm the timer.
    case cancelTimer
    /// The session now runs over its WebSocket; polling requests will be refused (for logs and
    /// metrics).
    case upgradeCompleted
    /// An upgrade attempt failed (``EngineIOError/Code/upgradeFailed`` or
    /// ``EngineIOError/Code/upgradeTimedOut``); the session goes on over polling.
    case upgradeFailed(EngineIOError)
    /// The session is over: remove it from the session table and tell the application. Always
    /// the last action; pending requests have been answered before it.
    case closeSession(EngineIOCloseReason)

    public var description: String {
        switch self {
        case .answerPoll(let body): return "answerPoll(\(body))"
        case .writeWebSocket(let frame): return "writeWebSocket(\(frame))"
        case .closeWebSocket: return "closeWebSocket"
        case .deliver(let data): return "deliver(\(data))"
        case .scheduleTimer(let deadline): return "scheduleTimer(\(deadline.uptimeNanoseconds))"
        case .cancelTimer: return "cancelTimer"
        case .upgradeCompleted: return "upgradeCompleted"
        case .upgradeFailed(let error): return "upgradeFailed(\(error.code))"
        case .closeSession(let reason): return "closeSession(\(reason))"
        }
    }
}
