import DuplexWebSocketCore
import NIOCore

/// The outcome of ``WebSocketConnection/broadcast(_:to:)``.
public struct BroadcastReport: Sendable, Hashable {
    /// Connections the message was queued on.
    public var sent: Int
    /// Connections skipped because their send buffer was full (a slow reader).
    public var skippedSlow: Int
    /// Connections skipped because they were closing or closed.
    public var skippedClosed: Int
}

extension WebSocketConnection {
    /// Sends one message to many connections without waiting for any of them, so one slow
    /// connection never delays the others (like Python `websockets.broadcast`).
    ///
    /// A connection whose send buffer is over its high-water mark (the peer is not reading) is
    /// skipped for this message rather than buffering without bound; the report counts it.
    @discardableResult
    public static func broadcast(_ message: WebSocketMessage, to connections: some Sequence<WebSocketConnection>) -> BroadcastReport {
        var report = BroadcastReport(sent: 0, skippedSlow: 0, skippedClosed: 0)
        for connection in connections {
            guard connection.isOpen else {
                report.skippedClosed += 1
                continue
            }
            // trySend also counts the bytes queued for the event loop, which the channel's
            // writability does not reflect until the loop has run.
            if connection.trySend(message) {
                report.sent += 1
            } else {
                report.skippedSlow += 1
            }
        }
        return report
    }
}
