import DuplexEngineIOCore
import NIOCore
import Synchronization

/// The frames a session has queued for its WebSocket, counted and costed for the session's flow
/// control, and who sends them.
///
/// Two senders take turns, and only one holds frames at a time, so the order is kept:
/// - the event loop (``enableLoopWrites(on:send:)``): the first frame queued while nothing is in
///   flight schedules one job on the WebSocket's loop, which writes everything queued by then
///   with one flush, as long as the peer is reading. No task wakes up, which is what a broadcast
///   to thousands of sockets pays per recipient otherwise;
/// - the writer task (``takeAll()``): it takes over when the loop finds the WebSocket not
///   writable (it waits for the peer), for WebSockets that cannot be written without waiting
///   (framework integrations), and to close the WebSocket once the outbox is finished.
///
/// Count and cost are atomics so that the session reads them under its own lock without taking
/// the outbox's.
final class WebSocketOutbox: Sendable {
    /// Who sends the queued frames.
    private enum Sender {
        /// Nothing queued or in flight; the writer task waits.
        case idle
        /// A job on the event loop will write what is queued.
        case loop
        /// The writer task takes what is queued.
        case writer
    }

    private struct LoopWrites {
        var eventLoop: any EventLoop
        /// Writes frames without waiting; false when the WebSocket cannot take them now.
        var send: @Sendable ([EngineIOWebSocketFrame]) -> Bool
    }

    private struct State {
        var frames: [EngineIOWebSocketFrame] = []
        var sender = Sender.idle
        var isFinished = false
        var loopWrites: LoopWrites?
        var writerWaiter: CheckedContinuation<Void, Never>?
        /// The writer task was cancelled: it ends as soon as nothing is in flight.
        var isWriterCancelled = false

        /// The writer's continuation when it has to wake up now to end: the outbox finished (or
        /// the writer was cancelled), nothing is queued for it and no loop job is in flight (that
        /// job wakes it when done).
        mutating func takeWriterWaiterIfFinished() -> CheckedContinuation<Void, Never>? {
            guard isFinished || isWriterCancelled, case .idle = sender else { return nil }
            defer { writerWaiter = nil }
            return writerWaiter
        }
    }

    private let state = Mutex(State())
    /// Called once frames left the outbox (the session releases the senders waiting for room).
    private let onTaken: @Sendable () -> Void
    /// Frames queued and not yet taken by a sender.
    let count = Atomic<Int>(0)
    /// Their cost (``cost(of:)``), sequentially consistent: see `ServerSession.sendWaiterCount`.
    let cost = Atomic<Int>(0)

    init(onTaken: @escaping @Sendable () -> Void = {}) {
        self.onTaken = onTaken
    }

    /// Whether the writer task waits with nothing in flight (for tests).
    var isWriterWaiting: Bool {
        state.withLock { state in
            guard case .idle = state.sender else { return false }
            return state.writerWaiter != nil
        }
    }

    /// The cost of a queued frame in the session's flow control.
    static func cost(of frame: EngineIOWebSocketFrame) -> Int {
        frame.byteCount + EngineIOServerSession.queuedMessageOverhead
    }

    /// From now on, frames are written from `eventLoop` with `send` while it accepts them (see
    /// the type's documentation). Called once, by the task that runs the WebSocket, before it
    /// starts the writer task.
    ///
    /// Frames queued before (the open packet) were handed to the writer, which has not taken them
    /// yet: the loop writes them instead. A writer that never sends keeps only its waiting frame;
    /// one that did keeps the slabs of the whole send path (NIO's async writer) for the session's
    /// life, about 4 KiB per idle client.
    func enableLoopWrites(on eventLoop: any EventLoop, send: @escaping @Sendable ([EngineIOWebSocketFrame]) -> Bool) {
        let handOver: Bool = state.withLock { state in
            state.loopWrites = LoopWrites(eventLoop: eventLoop, send: send)
            guard case .writer = state.sender, !state.frames.isEmpty, !state.isFinished else { return false }
            state.sender = .loop
            return true
        }
        if handOver { eventLoop.execute { self.writeFromLoop() } }
    }

    /// Queues a frame; dropped once the outbox is finished.
    func append(_ frame: EngineIOWebSocketFrame) {
        // Counted first, so that no sender takes a frame that is not counted yet.
        count.add(1, ordering: .relaxed)
        cost.add(Self.cost(of: frame), ordering: .sequentiallyConsistent)
        enum Wake {
            case none, loop(any EventLoop), writer(CheckedContinuation<Void, Never>?)
        }
        let wake: Wake? = state.withLock { state in
            guard !state.isFinished else { return nil }
            state.frames.append(frame)
            guard case .idle = state.sender else { return Wake.none }
            if let loopWrites = state.loopWrites {
                state.sender = .loop
                return .loop(loopWrites.eventLoop)
            }
            state.sender = .writer
            defer { state.writerWaiter = nil }
            return .writer(state.writerWaiter)
        }
        switch wake {
        case nil: uncount([frame])
        case .none?: break
        case .loop(let eventLoop)?: eventLoop.execute { self.writeFromLoop() }
        case .writer(let waiter)?: waiter?.resume()
        }
    }

    /// No more frames: what is queued is sent, then the writer ends.
    func finish() {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            state.isFinished = true
            return state.takeWriterWaiterIfFinished()
        }
        waiter?.resume()
    }

    /// Drops what is queued and ends the writer (a session terminated for a full buffer).
    func discard() {
        let (dropped, waiter): ([EngineIOWebSocketFrame], CheckedContinuation<Void, Never>?) = state.withLock { state in
            state.isFinished = true
            defer { state.frames = [] }
            return (state.frames, state.takeWriterWaiterIfFinished())
        }
        uncount(dropped)
        waiter?.resume()
    }

    /// The writer task: waits until it has frames to send and takes them all, in order; nil once
    /// the outbox is finished and everything queued was sent, or the task is cancelled while it
    /// has nothing to send. One task (the writer) calls it.
    func takeAll() async -> [EngineIOWebSocketFrame]? {
        while true {
            let taken: [EngineIOWebSocketFrame]?? = state.withLock { state in
                if case .writer = state.sender {
                    if !state.frames.isEmpty {
                        defer { state.frames = [] }
                        return .some(state.frames)
                    }
                    // Everything handed over was sent: the loop may write again.
                    state.sender = .idle
                }
                guard case .idle = state.sender else { return nil }
                return state.isFinished || Task.isCancelled ? .some(nil) : nil
            }
            if let taken {
                if let taken {
                    uncount(taken)
                    onTaken()
                }
                return taken
            }
            await waitForWriterTurn()
        }
    }

    /// Suspends the writer until frames are handed to it, the outbox finishes with nothing in
    /// flight, or the task is cancelled.
    private func waitForWriterTurn() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let isReady: Bool = state.withLock { state in
                    switch state.sender {
                    case .writer where !state.frames.isEmpty: return true
                    case .idle where state.isFinished || Task.isCancelled: return true
                    default:
                        state.writerWaiter = continuation
                        return false
                    }
                }
                if isReady { continuation.resume() }
            }
        } onCancel: {
            let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
                state.isWriterCancelled = true
                defer { state.writerWaiter = nil }
                return state.writerWaiter
            }
            waiter?.resume()
        }
    }

    /// The loop's job: writes what is queued, again while more arrives, until nothing is left
    /// (the outbox is idle) or the WebSocket cannot take more (the writer task takes over and
    /// waits for the peer).
    private func writeFromLoop() {
        while true {
            enum Step {
                case write([EngineIOWebSocketFrame], @Sendable ([EngineIOWebSocketFrame]) -> Bool)
                case done(CheckedContinuation<Void, Never>?)
            }
            let step: Step = state.withLock { state in
                guard !state.frames.isEmpty, let loopWrites = state.loopWrites else {
                    // Idle: the writer needs waking only if the outbox finished meanwhile.
                    state.sender = .idle
                    return .done(state.takeWriterWaiterIfFinished())
                }
                defer { state.frames = [] }
                return .write(state.frames, loopWrites.send)
            }
            switch step {
            case .done(let waiter):
                waiter?.resume()
                return
            case .write(let frames, let send):
                if send(frames) {
                    uncount(frames)
                    onTaken()
                    continue
                }
                // Not writable now: the writer task sends them, first, and waits for room.
                let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
                    state.frames.insert(contentsOf: frames, at: 0)
                    state.sender = .writer
                    defer { state.writerWaiter = nil }
                    return state.writerWaiter
                }
                waiter?.resume()
                return
            }
        }
    }

    private func uncount(_ removed: [EngineIOWebSocketFrame]) {
        guard !removed.isEmpty else { return }
        count.subtract(removed.count, ordering: .relaxed)
        cost.subtract(removed.reduce(0) { $0 + Self.cost(of: $1) }, ordering: .sequentiallyConsistent)
    }
}
