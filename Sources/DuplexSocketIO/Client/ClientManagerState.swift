import DuplexSocketIOCore
import DuplexEngineIO

/// The state of a ``SocketIOClientManager``, under its lock: the namespaces, the current
/// Engine.IO session (if any) and the reconnection loop.
struct ClientManagerState: Sendable {
    /// The link to the Engine.IO session in progress.
    struct Session: Sendable {
        /// Counts sessions, so that work decided for an old session is not done in a new one.
        var generation: UInt64
        /// The Engine.IO session id.
        var engineSessionID: String
        var transport: EngineIOTransport
        /// Encoded Socket.IO messages, written in order by the session's writer task.
        var outbound: AsyncStream<EngineIOPacketData>.Continuation
        /// Namespaces whose CONNECT the session's connector must send (after resolving auth).
        var connectRequests: AsyncStream<String>.Continuation
        /// Set when the client decided to end the session; the reason its sockets get.
        var closeReason: SocketIOClientDisconnectReason?
    }

    /// What the reconnection loop is doing.
    enum LoopStage: Sendable, Equatable {
        /// No loop task.
        case stopped
        /// Opening a session, or waiting before the next attempt: cancelling the task is safe.
        case opening
        /// Inside a session: it ends by closing the session, so queued packets go out first.
        case inSession
    }

    var namespaces: [String: ClientNamespaceState] = [:]
    var session: Session?
    var generation: UInt64 = 0
    var loopStage = LoopStage.stopped
    var loopTask: Task<Void, Never>?
    var managerHandlers = ClientHandlerList<SocketIOClientManagerEvent>()
    var nextID: UInt64 = 0

    /// Whether any namespace wants a connection.
    var wantsSession: Bool { namespaces.values.contains { $0.isActive } }

    mutating func makeID() -> UInt64 {
        defer { nextID &+= 1 }
        return nextID
    }

    /// Writes `packet` to the current session (text first, then its attachments, in one go so
    /// that concurrent writers never interleave); false when there is no session.
    mutating func write(_ packet: SocketIOPacket, encoder: SocketIOPacketEncoder) -> Bool {
        guard let session else { return false }
        let encoded = encoder.encode(packet)
        session.outbound.yield(.text(encoded.text))
        for attachment in encoded.attachments { session.outbound.yield(.binary(attachment)) }
        return true
    }

    /// Asks the session to close, giving its connected sockets `reason`; the writer sends what is
    /// queued, then closes the Engine.IO session.
    mutating func closeSession(reason: SocketIOClientDisconnectReason) {
        guard session != nil else { return }
        if session?.closeReason == nil { session?.closeReason = reason }
        session?.outbound.finish()
        session?.connectRequests.finish()
    }
}
