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
/// that only enqueue (a WebSocket write into the writer's stream, a delivery into the
/// application's stream, arming the timer) run inside the lock, so they keep the machine's
/// order even when inputs race; resuming a waiting request and logging happen after the lock is
/// released. No task belongs to a session: timers are event-loop tasks, a WebSocket is served by
/// the task that accepted it.
final class ServerSession: Sendable {
    let id: EngineIOSessionID
    let protocolVersion: EngineIOProtocolVersion
    let request: EngineIOHandshakeRequest
    let logger: Logger
    /// The application's messages; finished when the session closes.
    let inbound: AsyncStream<EngineIOMessage>

    private let inboundContinuation: AsyncStream<EngineIOMessage>.Continuation
    private let eventLoop: any EventLoop
    private let onClose: @Sendable (ServerSession, EngineIOCloseReason) -> Void
    private let tokens = Atomic<UInt64>(0)
    private let state: Mutex<State>

    private struct State: ~Copyable {
        var machine: EngineIOServerSession
        var pendingPoll: PendingPoll?
        var webSocket: AttachedWebSocket?
        var timer: (token: UInt64, task: Scheduled<Void>)?
        var closeReason: EngineIOCloseReason?
        var closeWaiters: [CheckedContinuation<EngineIOCloseReason, Never>] = []
    }

    private struct PendingPoll {
        var token: UInt64
        var continuation: CheckedContinuation<PollResult, Never>
    }

    private struct AttachedWebSocket {
        var token: UInt64
        var writer: AsyncStream<EngineIOWebSocketFrame>.Continuation
        /// Frames yielded to `writer` and not yet taken by the WebSocket's writer task.
        var pending: PendingFrameCount
    }

    /// The number of frames waiting in a WebSocket's writer stream: incremented when the session
    /// yields a frame, decremented when the writer task takes one. Lets ``isWritable`` and
    /// ``bufferedMessageCount`` see the WebSocket's queue, which `AsyncStream` does not expose.
    final class PendingFrameCount: Sendable {
        let value = Atomic<Int>(0)
    }

    /// The iterator of a WebSocket writer stream, shared with the `AsyncStream(unfolding:)` that
    /// wraps it to count the frames taken.
    ///
    /// `@unchecked Sendable`: the iterator is only used from `next()`, which the wrapping
    /// `AsyncStream` calls from its single consumer (the WebSocket writer task; `AsyncStream`
    /// traps on concurrent iteration), so calls never overlap.
    private final class FrameIteratorBox: @unchecked Sendable {
        var iterator: AsyncStream<EngineIOWebSocketFrame>.AsyncIterator
        let pending: PendingFrameCount

        init(_ stream: AsyncStream<EngineIOWebSocketFrame>, pending: PendingFrameCount) {
            self.iterator = stream.makeAsyncIterator()
            self.pending = pending
        }

        func next() async -> EngineIOWebSocketFrame? {
            let frame = await iterator.next()
            if frame != nil { pending.value.subtract(1, ordering: .relaxed) }
            return frame
        }
    }

    /// What ``enqueue(_:volatile:bufferLimit:)`` did.
    enum EnqueueOutcome: Sendable {
        case enqueued
        case notWritable
        case bufferFull
        case closed
    }

    /// A WebSocket attached to the session: its frames to write, and the token that identifies
    /// it in later calls (events from a detached WebSocket are ignored).
    struct WebSocketAttachment: Sendable {
        var token: UInt64
        var frames: AsyncStream<EngineIOWebSocketFrame>
    }

    /// What the drained actions left to do once the lock is released.
    private struct Effects {
        var answers: [(CheckedContinuation<PollResult, Never>, PollResult)] = []
        var events: [Event] = []
        var closeWaiters: [CheckedContinuation<EngineIOCloseReason, Never>] = []
        var closeReason: EngineIOCloseReason?
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
        request: EngineIOHandshakeRequest,
        eventLoop: any EventLoop,
        logger: Logger,
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
        (self.inbound, self.inboundContinuation) = AsyncStream.makeStream(of: EngineIOMessage.self)
        self.state = Mutex(State(machine: machine))
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
        let (rawFrames, writer) = AsyncStream.makeStream(of: EngineIOWebSocketFrame.self)
        let pending = PendingFrameCount()
        let box = FrameIteratorBox(rawFrames, pending: pending)
        let frames = AsyncStream<EngineIOWebSocketFrame>(unfolding: { await box.next() })
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
            state.webSocket = AttachedWebSocket(token: token, writer: writer, pending: pending)
            drain(&state, into: &effects)
            return nil
        }
        perform(effects)
        if let refusal {
            writer.finish()
            throw refusal
        }
        return WebSocketAttachment(token: token, frames: frames)
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
                webSocket.writer.finish()
                state.webSocket = nil
            }
        }
        perform(effects)
    }

    // MARK: - Application

    /// Queues a message for the client.
    func send(_ message: EngineIOMessage) throws(EngineIOError) {
        var effects = Effects()
        let refusal: EngineIOError? = state.withLock { state in
            do throws(EngineIOError) {
                try state.machine.sendRequested(message)
            } catch {
                return error
            }
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
    func enqueue(_ messages: some Collection<EngineIOMessage>, volatile: Bool, bufferLimit: Int?) -> EnqueueOutcome {
        var effects = Effects()
        let outcome: EnqueueOutcome = state.withLock { state in
            guard !state.machine.isClosed, state.closeReason == nil else { return .closed }
            if volatile, !Self.isWritable(state) { return .notWritable }
            if let bufferLimit, Self.bufferedCount(state) + messages.count > bufferLimit { return .bufferFull }
            for message in messages {
                do throws(EngineIOError) {
                    try state.machine.sendRequested(message)
                } catch {
                    drain(&state, into: &effects)
                    return .closed
                }
            }
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
            return webSocket.pending.value.load(ordering: .relaxed) == 0
        }
        return state.pendingPoll != nil && state.machine.bufferedPacketCount == 0
    }

    private static func bufferedCount(_ state: borrowing State) -> Int {
        let webSocketFrames = state.webSocket?.pending.value.load(ordering: .relaxed) ?? 0
        return state.machine.bufferedPacketCount + webSocketFrames
    }

    /// Starts closing the session (protocol.md 4.1.8).
    func startClosing() {
        var effects = Effects()
        state.withLock { state in
            state.machine.closeRequested(now: .now())
            drain(&state, into: &effects)
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
                if let webSocket = state.webSocket {
                    webSocket.pending.value.add(1, ordering: .relaxed)
                    webSocket.writer.yield(frame)
                }
            case .closeWebSocket:
                // The writer sends what it holds, then closes the WebSocket.
                state.webSocket?.writer.finish()
                state.webSocket = nil
            case .deliver(let data):
                inboundContinuation.yield(data)
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
                effects.events.append(.upgradeCompleted)
            case .upgradeFailed(let error):
                effects.events.append(.upgradeFailed(error))
            case .closeSession(let reason):
                state.timer?.task.cancel()
                state.timer = nil
                state.webSocket?.writer.finish()
                state.webSocket = nil
                if let pending = state.pendingPoll {
                    // The machine answers pending GETs before closing; this only guards against a
                    // request left waiting forever.
                    state.pendingPoll = nil
                    effects.answers.append((pending.continuation, .failure(EngineIOError(.sessionClosed, "Session closed"))))
                }
                state.closeReason = reason
                inboundContinuation.finish()
                effects.closeReason = reason
                effects.closeWaiters = state.closeWaiters
                state.closeWaiters = []
            }
        }
    }

    private func perform(_ effects: Effects) {
        for (continuation, result) in effects.answers { continuation.resume(returning: result) }
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
