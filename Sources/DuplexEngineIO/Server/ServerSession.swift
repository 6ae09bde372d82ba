import DuplexEngineIOCore
import Logging
import NIOCore
import Synchronization

/// The answer to a polling GET: a payload, or the error to refuse the request with.
typealias PollResult = Result<EngineIOPollingBody, EngineIOError>

/// One Engine.IO session on the server: the sans-I/O ``EngineIOServerSession`` behind a mutex,
/// and the executor of its actions (DESIGN.md: the adapter feeds the state machine and executes
/// its actions, nothing else).
///
/// Concurrency: every input takes the lock, feeds the machine and drains its actions. Actions
/// that only enqueue (a WebSocket write into the writer's outbox, a delivery into the
/// application's mailbox, arming the timer) run inside the lock, so they keep the machine's
/// order even when inputs race; resuming a waiting request and logging happen after the lock is
/// released. No task belongs to a session: timers are event-loop tasks, a WebSocket is served by
/// the task that accepted it.
///
/// Backpressure (DESIGN.md: "a slow reader stops socket reads; a slow peer makes `send` wait"):
/// ``send(_:)`` waits while the outbound queue (polling outbox plus WebSocket writer queue) is
/// above ``FlowControl/sendHighWaterMark`` until it drains to ``FlowControl/sendLowWaterMark``;
/// ``enqueue(_:volatile:bufferLimit:)`` never waits, and closes the session with
/// ``EngineIOCloseReason/sendBufferFull`` past ``FlowControl/maxSendBufferSize``. Inbound, the
/// transports call ``waitForInboundRoom(pausingHeartbeat:)`` after each delivery, which waits
/// while the application's unread messages exceed ``FlowControl/receiveBufferLimit``.
final class ServerSession: Sendable {
    let id: EngineIOSessionID
    let protocolVersion: EngineIOProtocolVersion
    let request: EngineIOHandshakeRequest
    let logger: Logger
    /// The application's messages; finished when the session closes.
    let inbound = AsyncMailbox<EngineIOMessage>()
    /// The loop of the session's timers (the WebSocket's channel loop when it opened over one).
    let eventLoop: any EventLoop
    private let onClose: @Sendable (ServerSession, EngineIOCloseReason) -> Void
    private let tokens = Atomic<UInt64>(0)
    private let flowControl: FlowControl
    private let metrics: EngineIOMetrics
    /// The number of waiting senders, readable without the lock, so that the WebSocket writer
    /// task only takes the lock to wake senders when some wait. A sender increments it before
    /// checking the queue, the writer decrements the queue before reading it (both sequentially
    /// consistent), so one of them always sees the other.
    private let sendWaiterCount = Atomic<Int>(0)
    private let state: Mutex<State>

    /// The buffer limits of a session, from ``EngineIOServerConfiguration``; costs are
    /// ``EngineIOServerSession/queueCost(of:)``.
    struct FlowControl: Sendable {
        var sendHighWaterMark: Int
        var sendLowWaterMark: Int
        var maxSendBufferSize: Int
        var receiveBufferLimit: Int
    }

    private struct State: ~Copyable {
        var machine: EngineIOServerSession
        /// The transport the session is counted under in the active sessions metric (the
        /// machine reports `polling` once closed).
        var meteredTransport: EngineIOTransport
        var pendingPoll: PendingPoll?
        var webSocket: AttachedWebSocket?
        var timer: (token: UInt64, task: Scheduled<Void>)?
        var closeReason: EngineIOCloseReason?
        var closeWaiters: [CheckedContinuation<EngineIOCloseReason, Never>] = []
        var sendWaiters: [Waiter<Result<Void, EngineIOError>>] = []
        /// The cost of the messages delivered to ``inbound`` and not yet taken by the application.
        var inboundCost = 0
        var inboundWaiters: [Waiter<Void>] = []
    }

    private struct Waiter<Value> {
        var token: UInt64
        var continuation: CheckedContinuation<Value, Never>
    }

    private struct PendingPoll {
        var token: UInt64
        var continuation: CheckedContinuation<PollResult, Never>
    }

    private struct AttachedWebSocket {
        var token: UInt64
        /// The frames for the WebSocket's writer task.
        var outbox: WebSocketOutbox
    }

    /// What ``enqueue(_:volatile:bufferLimit:)`` did.
    enum EnqueueOutcome: Sendable {
        case enqueued
        case notWritable
        case bufferFull
        case closed
        case unframeable
    }

    /// A WebSocket attached to the session: its frames to write, and the token that identifies
    /// it in later calls (events from a detached WebSocket are ignored).
    struct WebSocketAttachment: Sendable {
        var token: UInt64
        fileprivate let outbox: WebSocketOutbox

        /// Waits for the frames to write and takes them all (see ``WebSocketOutbox/takeAll()``);
        /// nil once the session detached the WebSocket and everything queued was taken.
        func nextFrames() async -> [EngineIOWebSocketFrame]? {
            await outbox.takeAll()
        }

        /// Lets the event loop write the frames while `send` accepts them, without the writer
        /// task (see ``WebSocketOutbox``).
        func enableLoopWrites(on eventLoop: any EventLoop, send: @escaping @Sendable ([EngineIOWebSocketFrame]) -> Bool) {
            outbox.enableLoopWrites(on: eventLoop, send: send)
        }
    }

    /// What the drained actions left to do once the lock is released.
    private struct Effects {
        var answers: [(CheckedContinuation<PollResult, Never>, PollResult)] = []
        var events: [Event] = []
        var closeWaiters: [CheckedContinuation<EngineIOCloseReason, Never>] = []
        var closeReason: EngineIOCloseReason?
        var sendWaiters: [(CheckedContinuation<Result<Void, EngineIOError>, Never>, Result<Void, EngineIOError>)] = []
        var inboundWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private enum Event {
        case upgradeCompleted
        case upgradeFailed(EngineIOError)
    }

    init(
        id: EngineIOSessionID,
        transport: EngineIOTransport,
        pollingFormat: EngineIOPollingFormat,
        configuration: EngineIOServerSession.Configuration,
        flowControl: FlowControl,
        request: EngineIOHandshakeRequest,
        eventLoop: any EventLoop,
        logger: Logger,
        metrics: EngineIOMetrics,
        onClose: @escaping @Sendable (ServerSession, EngineIOCloseReason) -> Void
    ) {
        let machine = EngineIOServerSession(
            id: id,
            transport: transport,
            pollingFormat: pollingFormat,
            configuration: configuration,
            now: .now()
        )
        self.id = id
        self.protocolVersion = machine.protocolVersion
        self.request = request
        self.logger = logger
        self.eventLoop = eventLoop
        self.onClose = onClose
        self.flowControl = flowControl
        self.metrics = metrics
        self.state = Mutex(State(machine: machine, meteredTransport: transport))
    }

    // MARK: - Observers

    /// The transport carrying the session now.
    var transport: EngineIOTransport { state.withLock { $0.machine.transport } }

    /// Why the session closed, once it has.
    var closeReason: EngineIOCloseReason? { state.withLock { $0.closeReason } }

    /// Whether a polling GET is waiting for packets (for tests and diagnostics).
    var hasPendingPoll: Bool { state.withLock { $0.pendingPoll != nil } }

    // MARK: - Polling (protocol.md 4.1.4)

    /// Serves a polling GET: waits until the session has packets for it (or ends it with `noop`
    /// during an upgrade, `close` when the session fails), or returns the error to refuse it with.
    /// Cancelling the task gives up the GET (`pollAborted`); its packets stay queued.
    func poll() async -> PollResult {
        let token = tokens.add(1, ordering: .relaxed).newValue
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<PollResult, Never>) in
                var effects = Effects()
                let refusal: EngineIOError? = state.withLock { state in
                    guard !Task.isCancelled else { return EngineIOError(.cancelled, "The polling request was cancelled") }
                    do throws(EngineIOError) {
                        try state.machine.pollRequested(now: .now())
                    } catch {
                        // A second concurrent GET fails the session: the earlier GET gets `close`.
                        drain(&state, into: &effects)
                        return error
                    }
                    state.pendingPoll = PendingPoll(token: token, continuation: continuation)
                    drain(&state, into: &effects)
                    return nil
                }
                perform(effects)
                if let refusal { continuation.resume(returning: .failure(refusal)) }
            }
        } onCancel: {
            let continuation: CheckedContinuation<PollResult, Never>? = state.withLock { state in
                guard let pending = state.pendingPoll, pending.token == token else { return nil }
                state.pendingPoll = nil
                state.machine.pollAborted()
                return pending.continuation
            }
            continuation?.resume(returning: .failure(EngineIOError(.cancelled, "The polling request was cancelled")))
        }
    }

    /// Serves a polling POST whose body has arrived.
    func post(_ body: ByteBuffer, contentType: String?) -> Result<Void, EngineIOError> {
        var effects = Effects()
        let result: Result<Void, EngineIOError> = state.withLock { state in
            defer { drain(&state, into: &effects) }
            do throws(EngineIOError) {
                try state.machine.postReceived(body, contentType: contentType, now: .now())
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        perform(effects)
        return result
    }

    // MARK: - WebSocket (protocol.md 4.1.5, 4.1.7)

    /// Checks that an upgrade would be accepted now, without changing the session: the same rules
    /// as ``attachWebSocket(asUpgrade:)``, applied to a copy of the state machine.
    func checkUpgrade() throws(EngineIOError) {
        var copy = state.withLock { $0.machine }
        try copy.upgradeRequested(now: .now())
    }

    /// Attaches a WebSocket: the transport of a session opened over WebSocket, or the probe of an
    /// upgrade (`asUpgrade`).
    ///
    /// - Throws: for an upgrade, the error to refuse it with (unknown state, already upgrading
    ///   or upgraded, upgrades disabled); the session is unaffected.
    func attachWebSocket(asUpgrade: Bool) throws(EngineIOError) -> WebSocketAttachment {
        let token = tokens.add(1, ordering: .relaxed).newValue
        let outbox = WebSocketOutbox { [weak self] in self?.webSocketFramesTaken() }
        var effects = Effects()
        let refusal: EngineIOError? = state.withLock { state in
            if asUpgrade {
                do throws(EngineIOError) {
                    try state.machine.upgradeRequested(now: .now())
                } catch {
                    return error
                }
            }
            guard state.webSocket == nil, !state.machine.isClosed else {
                return EngineIOError(.badRequest, "The session already has a WebSocket")
            }
            state.webSocket = AttachedWebSocket(token: token, outbox: outbox)
            drain(&state, into: &effects)
            return nil
        }
        perform(effects)
        if let refusal {
            outbox.finish()
            throw refusal
        }
        return WebSocketAttachment(token: token, outbox: outbox)
    }

    /// A message arrived on an attached WebSocket. Returns false once that WebSocket is detached
    /// (the caller stops reading it).
    func webSocketReceived(_ frame: EngineIOWebSocketFrame, token: UInt64) -> Bool {
        var effects = Effects()
        let isAttached: Bool = state.withLock { state in
            guard state.webSocket?.token == token else { return false }
            state.machine.webSocketMessageReceived(frame, now: .now())
            drain(&state, into: &effects)
            return state.webSocket?.token == token
        }
        perform(effects)
        return isAttached
    }

    /// An attached WebSocket ended: closed by the peer (`failed: false`) or failed.
    func webSocketEnded(token: UInt64, failed: Bool) {
        var effects = Effects()
        state.withLock { state in
            guard state.webSocket?.token == token else { return }
            if failed { state.machine.webSocketFailed() } else { state.machine.webSocketClosed() }
            drain(&state, into: &effects)
            if let webSocket = state.webSocket, webSocket.token == token {
                webSocket.outbox.finish()
                state.webSocket = nil
            }
        }
        perform(effects)
    }

    // MARK: - Application

    /// Queues a message for the client, first waiting while the outbound queue is above the
    /// high-water mark (see the type's documentation).
    ///
    /// - Throws: ``EngineIOError/Code/sessionClosed`` once the session is closing or closed
    ///   (also when it closes while waiting); ``EngineIOError/Code/cancelled`` when the task is
    ///   cancelled while waiting; ``EngineIOError/Code/invalidPacket`` for a text that the
    ///   polling payload cannot frame. In every case the message was not queued.
    func send(_ message: EngineIOMessage) async throws(EngineIOError) {
        try await waitForSendCapacity()
        try queue(message)
    }

    /// Waits until the outbound queue is at or below the high-water mark, or (once it went above)
    /// until it drained to the low-water mark.
    private func waitForSendCapacity() async throws(EngineIOError) {
        guard state.withLock({ Self.outboundCost($0) > flowControl.sendHighWaterMark && $0.closeReason == nil }) else {
            return
        }
        let token = tokens.add(1, ordering: .relaxed).newValue
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, EngineIOError>, Never>) in
                let immediate: Result<Void, EngineIOError>? = state.withLock { state in
                    guard !Task.isCancelled else { return .failure(Self.cancelledWhileSending) }
                    guard state.closeReason == nil else { return .success(()) }  // `queue` throws
                    sendWaiterCount.add(1, ordering: .sequentiallyConsistent)
                    guard Self.outboundCost(state) > flowControl.sendLowWaterMark else {
                        sendWaiterCount.subtract(1, ordering: .sequentiallyConsistent)
                        return .success(())
                    }
                    state.sendWaiters.append(Waiter(token: token, continuation: continuation))
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter: Waiter<Result<Void, EngineIOError>>? = state.withLock { state in
                guard let index = state.sendWaiters.firstIndex(where: { $0.token == token }) else { return nil }
                sendWaiterCount.subtract(1, ordering: .sequentiallyConsistent)
                return state.sendWaiters.remove(at: index)
            }
            waiter?.continuation.resume(returning: .failure(Self.cancelledWhileSending))
        }
        try result.get()
    }

    private static let cancelledWhileSending = EngineIOError(
        .cancelled,
        "The send was cancelled while waiting for the client to read; the message was not queued"
    )

    /// The WebSocket writer task took frames: wakes the senders if the queue drained enough.
    private func webSocketFramesTaken() {
        guard sendWaiterCount.load(ordering: .sequentiallyConsistent) > 0 else { return }
        var effects = Effects()
        state.withLock { state in releaseSendWaitersIfDrained(&state, into: &effects) }
        perform(effects)
    }

    /// Queues a message for the client without waiting.
    private func queue(_ message: EngineIOMessage) throws(EngineIOError) {
        var effects = Effects()
        let refusal: EngineIOError? = state.withLock { state in
            do throws(EngineIOError) {
                try state.machine.sendRequested(message)
            } catch {
                return error
            }
            metrics.messagesSent(transport: state.machine.transport)
            drain(&state, into: &effects)
            return nil
        }
        perform(effects)
        if let refusal { throw refusal }
    }

    /// Queues several messages at once, without suspending, so that they stay adjacent on the
    /// wire (a Socket.IO packet and its attachments) even when other tasks send concurrently.
    ///
    /// - Parameters:
    ///   - volatile: queue nothing unless the transport can write now (see ``isWritable``).
    ///   - bufferLimit: queue nothing when this many messages are already waiting.
    ///
    /// Past ``FlowControl/maxSendBufferSize`` nothing is queued and the session is closed with
    /// ``EngineIOCloseReason/sendBufferFull`` (the outcome is `bufferFull`).
    func enqueue(_ messages: [EngineIOMessage], volatile: Bool, bufferLimit: Int?) -> EnqueueOutcome {
        var effects = Effects()
        let outcome: EnqueueOutcome = state.withLock { state in
            guard !state.machine.isClosed, state.closeReason == nil else { return .closed }
            if volatile, !Self.isWritable(state) { return .notWritable }
            if let bufferLimit, Self.bufferedCount(state) + messages.count > bufferLimit { return .bufferFull }
            // Plain loops: a closure over `state.machine` would copy the machine per message.
            var addedCost = 0
            for message in messages {
                guard state.machine.canSend(message) else { return .unframeable }
                addedCost += EngineIOServerSession.queueCost(of: message)
            }
            if Self.outboundCost(state) + addedCost > flowControl.maxSendBufferSize {
                // The client does not read and the caller does not wait: drop what is queued.
                state.webSocket?.outbox.discard()
                state.machine.terminate(.sendBufferFull)
                drain(&state, into: &effects)
                return .bufferFull
            }
            for message in messages {
                do throws(EngineIOError) {
                    try state.machine.sendRequested(message)
                } catch {
                    drain(&state, into: &effects)
                    return .closed
                }
            }
            metrics.messagesSent(messages.count, transport: state.machine.transport)
            drain(&state, into: &effects)
            return .enqueued
        }
        perform(effects)
        return outcome
    }

    /// Whether a message sent now would go out at once: over polling, a GET is waiting; over
    /// WebSocket, nothing is queued for the writer (engine.io `transport.writable`).
    var isWritable: Bool { state.withLock { Self.isWritable($0) } }

    /// Messages queued and not yet handed to the transport.
    var bufferedMessageCount: Int { state.withLock { Self.bufferedCount($0) } }

    private static func isWritable(_ state: borrowing State) -> Bool {
        if let webSocket = state.webSocket, state.machine.transport == .websocket {
            return webSocket.outbox.count.load(ordering: .relaxed) == 0
        }
        return state.pendingPoll != nil && state.machine.bufferedPacketCount == 0
    }

    private static func bufferedCount(_ state: borrowing State) -> Int {
        let webSocketFrames = state.webSocket?.outbox.count.load(ordering: .relaxed) ?? 0
        return state.machine.bufferedPacketCount + webSocketFrames
    }

    /// The cost of everything queued for the client: the polling outbox and the WebSocket
    /// writer's queue.
    private static func outboundCost(_ state: borrowing State) -> Int {
        let webSocketCost = state.webSocket?.outbox.cost.load(ordering: .sequentiallyConsistent) ?? 0
        return state.machine.bufferedByteCount + webSocketCost
    }

    /// Cost of everything queued for the client (for tests and diagnostics).
    var outboundCost: Int { state.withLock { Self.outboundCost($0) } }

    private func releaseSendWaitersIfDrained(_ state: inout State, into effects: inout Effects) {
        guard !state.sendWaiters.isEmpty, Self.outboundCost(state) <= flowControl.sendLowWaterMark else { return }
        resumeSendWaiters(&state, into: &effects, with: .success(()))
    }

    private func resumeSendWaiters(
        _ state: inout State,
        into effects: inout Effects,
        with result: Result<Void, EngineIOError>
    ) {
        guard !state.sendWaiters.isEmpty else { return }
        sendWaiterCount.subtract(state.sendWaiters.count, ordering: .sequentiallyConsistent)
        effects.sendWaiters += state.sendWaiters.map { ($0.continuation, result) }
        state.sendWaiters = []
    }

    // MARK: - Inbound backpressure

    /// The application took a message from ``inbound``.
    func inboundTaken(_ message: EngineIOMessage) {
        let cost = EngineIOServerSession.queueCost(of: message)
        let waiters: [Waiter<Void>] = state.withLock { state in
            state.inboundCost -= cost
            guard !state.inboundWaiters.isEmpty, state.inboundCost <= flowControl.receiveBufferLimit / 2 else { return [] }
            defer { state.inboundWaiters = [] }
            return state.inboundWaiters
        }
        for waiter in waiters { waiter.continuation.resume() }
    }

    /// Cost of the messages delivered and not yet taken by the application (for tests).
    var inboundCost: Int { state.withLock { $0.inboundCost } }

    /// Senders waiting for the outbound queue to drain (for tests and diagnostics).
    var waitingSenderCount: Int { state.withLock { $0.sendWaiters.count } }

    /// Whether a transport waits for the application to take messages (for tests and
    /// diagnostics).
    var isWaitingForInboundRoom: Bool { state.withLock { !$0.inboundWaiters.isEmpty } }

    /// Waits while the application's unread messages cost more than
    /// ``FlowControl/receiveBufferLimit``, until they drop to half of it, the session closes, or
    /// the task is cancelled. A transport calls it after feeding the session, before reading more
    /// (DESIGN.md: "a slow reader stops socket reads").
    ///
    /// - Parameter pausingHeartbeat: the caller stops reading the client while it waits (a
    ///   WebSocket), so the heartbeat must not expect an answer meanwhile.
    func waitForInboundRoom(pausingHeartbeat: Bool) async {
        guard state.withLock({ $0.inboundCost > flowControl.receiveBufferLimit && $0.closeReason == nil }) else { return }
        let token = tokens.add(1, ordering: .relaxed).newValue
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                var effects = Effects()
                let isRoom: Bool = state.withLock { state in
                    guard !Task.isCancelled, state.closeReason == nil,
                        state.inboundCost > flowControl.receiveBufferLimit / 2
                    else { return true }
                    state.inboundWaiters.append(Waiter(token: token, continuation: continuation))
                    if pausingHeartbeat {
                        state.machine.receivingPaused()
                        drain(&state, into: &effects)
                    }
                    return false
                }
                perform(effects)
                if isRoom { continuation.resume() }
            }
        } onCancel: {
            let waiter: Waiter<Void>? = state.withLock { state in
                guard let index = state.inboundWaiters.firstIndex(where: { $0.token == token }) else { return nil }
                return state.inboundWaiters.remove(at: index)
            }
            waiter?.continuation.resume()
        }
        if pausingHeartbeat {
            var effects = Effects()
            state.withLock { state in
                state.machine.receivingResumed(now: .now())
                drain(&state, into: &effects)
            }
            perform(effects)
        }
    }

    /// Starts closing the session (protocol.md 4.1.8). Waiting senders fail at once: the
    /// session no longer takes messages.
    func startClosing() {
        var effects = Effects()
        state.withLock { state in
            state.machine.closeRequested(now: .now())
            drain(&state, into: &effects)
            resumeSendWaiters(&state, into: &effects, with: .failure(EngineIOError(.sessionClosed, "Session closed")))
        }
        perform(effects)
    }

    /// Waits until the session is closed and returns why.
    func waitUntilClosed() async -> EngineIOCloseReason {
        await withCheckedContinuation { (continuation: CheckedContinuation<EngineIOCloseReason, Never>) in
            let reason: EngineIOCloseReason? = state.withLock { state in
                if let reason = state.closeReason { return reason }
                state.closeWaiters.append(continuation)
                return nil
            }
            if let reason { continuation.resume(returning: reason) }
        }
    }

    // MARK: - Timer

    private func timerFired(token: UInt64) {
        var effects = Effects()
        state.withLock { state in
            if state.timer?.token == token { state.timer = nil }
            state.machine.timerFired(now: .now())
            drain(&state, into: &effects)
        }
        perform(effects)
    }

    // MARK: - Executing actions

    /// Executes the machine's actions in order; enqueue-only ones at once (see the type's
    /// documentation), the others recorded in `effects`.
    private func drain(_ state: inout State, into effects: inout Effects) {
        while let action = state.machine.nextAction() {
            switch action {
            case .answerPoll(let body):
                if let pending = state.pendingPoll {
                    state.pendingPoll = nil
                    effects.answers.append((pending.continuation, .success(body)))
                }
            case .writeWebSocket(let frame):
                state.webSocket?.outbox.append(frame)
            case .closeWebSocket:
                // The writer sends what it holds, then closes the WebSocket.
                state.webSocket?.outbox.finish()
                state.webSocket = nil
            case .deliver(let data):
                metrics.messageReceived(transport: state.machine.transport)
                state.inboundCost += EngineIOServerSession.queueCost(of: data)
                inbound.append(data)
            case .scheduleTimer(let deadline):
                state.timer?.task.cancel()
                let token = tokens.add(1, ordering: .relaxed).newValue
                let task = eventLoop.scheduleTask(deadline: deadline) { [weak self] () -> Void in
                    self?.timerFired(token: token)
                }
                state.timer = (token, task)
            case .cancelTimer:
                state.timer?.task.cancel()
                state.timer = nil
            case .upgradeCompleted:
                // Recorded under the lock, in the machine's order, so that the active sessions
                // per transport never go out of step with the close below.
                metrics.upgradeCompleted()
                state.meteredTransport = .websocket
                effects.events.append(.upgradeCompleted)
            case .upgradeFailed(let error):
                metrics.upgradeFailed()
                effects.events.append(.upgradeFailed(error))
            case .closeSession(let reason):
                if state.closeReason == nil { metrics.sessionClosed(reason, transport: state.meteredTransport) }
                state.timer?.task.cancel()
                state.timer = nil
                state.webSocket?.outbox.finish()
                state.webSocket = nil
                if let pending = state.pendingPoll {
                    // The machine answers pending GETs before closing; this only guards against a
                    // request left waiting forever.
                    state.pendingPoll = nil
                    effects.answers.append((pending.continuation, .failure(EngineIOError(.sessionClosed, "Session closed"))))
                }
                state.closeReason = reason
                inbound.finish()
                effects.closeReason = reason
                effects.closeWaiters = state.closeWaiters
                state.closeWaiters = []
                // Waiting senders fail; waiting transports go on (and find the session closed).
                resumeSendWaiters(&state, into: &effects, with: .failure(EngineIOError(.sessionClosed, "Session closed")))
                effects.inboundWaiters += state.inboundWaiters.map(\.continuation)
                state.inboundWaiters = []
            }
        }
        releaseSendWaitersIfDrained(&state, into: &effects)
    }

    private func perform(_ effects: Effects) {
        for (continuation, result) in effects.answers { continuation.resume(returning: result) }
        for (continuation, result) in effects.sendWaiters { continuation.resume(returning: result) }
        for continuation in effects.inboundWaiters { continuation.resume() }
        for event in effects.events {
            switch event {
            case .upgradeCompleted:
                logger.debug("upgrade completed", metadata: [EngineIOLoggingMetadata.transport: "websocket"])
            case .upgradeFailed(let error):
                logger.debug(
                    "upgrade failed, the session stays on polling",
                    metadata: ["reason": "\(error.message)", "code": "\(error.code)"]
                )
            }
        }
        if let reason = effects.closeReason {
            if reason == .pingTimeout {
                logger.debug("heartbeat timeout: no pong within pingTimeout, closing the session")
            }
            logger.debug("session closed", metadata: ["reason": "\(reason)"])
            onClose(self, reason)
            for waiter in effects.closeWaiters { waiter.resume(returning: reason) }
        }
    }
}
