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

    var isOpen: Bool { state.withLock { $0.isOpen } }
    var closeInfo: CloseInfo? { state.withLock { $0.closeInfo } }
    var error: WebSocketError? { state.withLock { $0.error } }
    var latency: Duration? { state.withLock { $0.latency } }

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
