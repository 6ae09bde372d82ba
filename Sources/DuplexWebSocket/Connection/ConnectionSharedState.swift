import DuplexWebSocketCore
import Synchronization

/// What the event-loop-bound handler publishes for the async API: whether sends are still
/// accepted, the close frames, and the keepalive latency.
final class ConnectionSharedState: Sendable {
    private struct State {
        var isOpen = true
        var closeInfo: CloseInfo?
        var error: WebSocketError?
        var latency: Duration?
    }
    private let state = Mutex(State())
    /// Payload bytes handed to the event loop by `send` and `broadcast` that the connection
    /// handler has not taken yet. The channel's writability only changes once the loop has run,
    /// so a fast producer could queue without bound in the meantime; this counter bounds it.
    private let queued = Atomic<Int>(0)

    /// The most payload bytes queued for the event loop before `send` waits for its write, and
    /// `broadcast` skips the connection (NIO's default high write watermark).
    static let maxQueuedBytes = 64 * 1024

    var isOpen: Bool { state.withLock { $0.isOpen } }
    var closeInfo: CloseInfo? { state.withLock { $0.closeInfo } }
    var error: WebSocketError? { state.withLock { $0.error } }
    var latency: Duration? { state.withLock { $0.latency } }

    var queuedBytes: Int { queued.load(ordering: .relaxed) }
    /// Counts `size` payload bytes handed to the event loop; returns the new total.
    func enqueue(_ size: Int) -> Int { queued.add(size, ordering: .relaxed).newValue }
    /// The connection handler took `size` payload bytes.
    func dequeue(_ size: Int) { queued.subtract(size, ordering: .relaxed) }

    func markClosing() { state.withLock { $0.isOpen = false } }
    func setLatency(_ latency: Duration?) { state.withLock { $0.latency = latency } }
    func finish(_ info: CloseInfo, error: WebSocketError?) {
        state.withLock {
            $0.isOpen = false
            $0.closeInfo = info
            $0.error = error
        }
    }
}
