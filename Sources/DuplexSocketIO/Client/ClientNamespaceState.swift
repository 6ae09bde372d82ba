import DuplexSocketIOCore

/// Everything the client knows about one namespace: whether it is connected, its handlers,
/// its outstanding acknowledgements, its offline buffer and retry queue, and its connection
/// state recovery data. Mutated only under the manager's lock.
struct ClientNamespaceState: Sendable {
    typealias AckCompletion = @Sendable (Result<[JSONValue], SocketIOError>) -> Void
    typealias ConnectWaiter = CheckedContinuation<Result<Void, SocketIOError>, Never>

    enum Phase: Sendable, Equatable {
        /// Not wanted: never connected, or disconnected on purpose (by either side).
        case idle
        /// Wanted and not connected yet; `requestedIn` is the session generation whose
        /// connector was asked to send CONNECT (nil while there is no session).
        case connecting(requestedIn: UInt64?)
        /// Connected, with the socket id the server gave.
        case connected(socketID: String)
    }

    /// An acknowledgement awaited for an emit that is not in the retry queue.
    struct PendingAck: Sendable {
        var completion: AckCompletion
        var timer: Task<Void, Never>?
        /// False while the emit sits in the offline buffer.
        var isSent: Bool
    }

    /// An emit in the retry queue (JavaScript `_queue`): sent one at a time, with a fixed ack id.
    struct QueuedEmit: Sendable {
        var ackID: UInt64
        var name: String
        var arguments: [JSONValue]
        var timeout: Duration?
        var tryCount = 0
        var isPending = false
        var completion: AckCompletion?
        var timer: Task<Void, Never>?
    }

    var phase: Phase = .idle
    var auth: SocketIOClientAuth = .none

    // Connection state recovery (protocol.md 4.2.8).
    /// The private session id of the last CONNECT reply, if the server gave one.
    var pid: String?
    /// The offset of the last event received while `pid` was set.
    var offset: String?
    /// Whether the last connection restored the previous session.
    var recovered = false

    var eventHandlers: [String: ClientHandlerList<SocketIOClientEvent>] = [:]
    var anyHandlers = ClientHandlerList<SocketIOClientEvent>()
    var anyOutgoingHandlers = ClientHandlerList<SocketIOClientEvent>()
    var connectHandlers = ClientHandlerList<Void>()
    var disconnectHandlers = ClientHandlerList<SocketIOClientDisconnectReason>()
    var connectErrorHandlers = ClientHandlerList<SocketIOError>()

    var connectWaiters: [(id: UInt64, continuation: ConnectWaiter)] = []

    /// JavaScript `ids`: a per-socket counter.
    var nextAckID: UInt64 = 0
    var pendingAcks: [UInt64: PendingAck] = [:]
    /// Emits made while not connected (JavaScript `sendBuffer`), sent in order on connect.
    var sendBuffer: [SocketIOPacket] = []
    /// Events received before the CONNECT reply (JavaScript `receiveBuffer`; python-socketio
    /// emits from its connect handler before it answers), delivered on connect.
    var receiveBuffer: [SocketIOClientEvent] = []
    var retryQueue: [QueuedEmit] = []

    var isActive: Bool { phase != .idle }

    var isConnected: Bool {
        if case .connected = phase { return true }
        return false
    }

    var socketID: String? {
        if case .connected(let socketID) = phase { return socketID }
        return nil
    }

    mutating func makeAckID() -> UInt64 {
        defer { nextAckID &+= 1 }
        return nextAckID
    }

    /// Resolves every connect waiter with `result`.
    mutating func resolveConnectWaiters(_ result: Result<Void, SocketIOError>, into effects: inout ClientEffects) {
        let waiters = connectWaiters
        connectWaiters.removeAll()
        for waiter in waiters {
            effects.append { waiter.continuation.resume(returning: result) }
        }
    }

    /// Removes all handlers with `id`; whether one was found.
    mutating func removeHandler(_ id: SocketIOClientHandlerID) -> Bool {
        for name in eventHandlers.keys where eventHandlers[name]?.remove(id) == true {
            if eventHandlers[name]?.isEmpty == true { eventHandlers[name] = nil }
            return true
        }
        return anyHandlers.remove(id) || anyOutgoingHandlers.remove(id) || connectHandlers.remove(id)
            || disconnectHandlers.remove(id) || connectErrorHandlers.remove(id)
    }

    /// Fails the acknowledgements of emits already sent (JavaScript `_clearAcks`: buffered
    /// emits keep theirs and go out after the reconnection) and puts the retry queue's head
    /// back, failing it when it has used up its retries.
    mutating func connectionLost(retries: Int, into effects: inout ClientEffects) {
        receiveBuffer.removeAll()
        let error = SocketIOError(.disconnected, "the connection was lost before the acknowledgement arrived")
        for (id, ack) in pendingAcks where ack.isSent {
            pendingAcks[id] = nil
            ack.timer?.cancel()
            effects.append { ack.completion(.failure(error)) }
        }
        if var head = retryQueue.first, head.isPending {
            head.timer?.cancel()
            head.timer = nil
            head.isPending = false
            if head.tryCount > retries {
                retryQueue.removeFirst()
                if let completion = head.completion { effects.append { completion(.failure(error)) } }
            } else {
                retryQueue[0] = head
            }
        }
    }

    /// Fails every outstanding acknowledgement and retry, and drops the emits that wait for
    /// one: the socket will not reconnect by itself. Emits without acknowledgement stay
    /// buffered unless `dropsBuffer`.
    mutating func abandonOutstanding(_ error: SocketIOError, dropsBuffer: Bool, into effects: inout ClientEffects) {
        receiveBuffer.removeAll()
        for ack in pendingAcks.values {
            ack.timer?.cancel()
            effects.append { ack.completion(.failure(error)) }
        }
        pendingAcks.removeAll()
        for queued in retryQueue {
            queued.timer?.cancel()
            if let completion = queued.completion { effects.append { completion(.failure(error)) } }
        }
        retryQueue.removeAll()
        if dropsBuffer {
            sendBuffer.removeAll()
        } else {
            sendBuffer.removeAll { $0.ackID != nil }
        }
    }
}
