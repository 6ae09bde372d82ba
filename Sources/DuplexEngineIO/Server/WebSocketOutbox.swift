import DuplexEngineIOCore
import Synchronization

/// The frames a session has queued for its WebSocket, counted and costed for the session's flow
/// control.
///
/// The writer task takes everything queued at once (``takeAll()``) and sends it with one flush,
/// so replies produced while the writer waited to run leave in one `write` system call rather
/// than one each. Count and cost are atomics so that the session reads them under its own lock
/// without taking the mailbox's.
final class WebSocketOutbox: Sendable {
    private let frames = AsyncMailbox<EngineIOWebSocketFrame>()
    /// Frames queued and not yet taken by the writer.
    let count = Atomic<Int>(0)
    /// Their cost (``cost(of:)``), sequentially consistent: see `ServerSession.sendWaiterCount`.
    let cost = Atomic<Int>(0)

    /// The cost of a queued frame in the session's flow control.
    static func cost(of frame: EngineIOWebSocketFrame) -> Int {
        frame.byteCount + EngineIOServerSession.queuedMessageOverhead
    }

    /// Queues a frame; dropped once the outbox is finished.
    func append(_ frame: EngineIOWebSocketFrame) {
        // Counted first, so that the writer never takes a frame that is not counted yet.
        count.add(1, ordering: .relaxed)
        cost.add(Self.cost(of: frame), ordering: .sequentiallyConsistent)
        if !frames.append(frame) { uncount([frame]) }
    }

    /// No more frames: the writer sends what is queued, then ends.
    func finish() {
        frames.finish()
    }

    /// Drops what is queued and ends the writer (a session terminated for a full buffer).
    func discard() {
        uncount(frames.discard())
    }

    /// Waits until frames are queued and takes them all, in order; nil once the outbox is
    /// finished and empty, or the task is cancelled. One task (the writer) calls it.
    func takeAll() async -> [EngineIOWebSocketFrame]? {
        guard let taken = await frames.takeAll() else { return nil }
        uncount(taken)
        return taken
    }

    private func uncount(_ removed: [EngineIOWebSocketFrame]) {
        guard !removed.isEmpty else { return }
        count.subtract(removed.count, ordering: .relaxed)
        cost.subtract(removed.reduce(0) { $0 + Self.cost(of: $1) }, ordering: .sequentiallyConsistent)
    }
}
