import DuplexEngineIOCore
import DuplexWebSocket
import DuplexWebSocketCore
import HTTPTypes
import Logging
import NIOCore
import Synchronization

/// One WebSocket of a client session (protocol.md 4.1.5): the transport of a WebSocket-only
/// session, or an upgrade probe (4.1.7) that becomes the transport once the upgrade completes.
///
/// ``run(url:configuration:eventLoopGroup:logger:events:)`` reports everything as
/// ``ClientDriverEvent``s tagged with ``id``; the driver ignores a transport's events once it
/// has detached it.
final class ClientWebSocketTransport: Sendable {
    /// Tells this transport's events apart from those of earlier attempts.
    let id: Int
    private let writes: AsyncStream<EngineIOWebSocketFrame>
    private let writesContinuation: AsyncStream<EngineIOWebSocketFrame>.Continuation
    /// Resolved `true` to abort at once, `false` when the connection has ended.
    private let stop = ClientOneShot<Bool>()
    private let state = Mutex<State>(State())

    private enum RunOutcome: Sendable {
        case ended(EngineIOError?)
        case aborted
        case watcherDone
    }

    private struct State {
        var isOpen = false
        var isDetached = false
        var pendingWriteCount = 0
        var isReadPaused = false
        var resumeReading: CheckedContinuation<Void, Never>?
    }

    init(id: Int) {
        self.id = id
        (writes, writesContinuation) = AsyncStream.makeStream(of: EngineIOWebSocketFrame.self)
    }

    /// Queues a message; messages go out in order once the WebSocket is open.
    func write(_ frame: EngineIOWebSocketFrame) {
        state.withLock { $0.pendingWriteCount += 1 }
        writesContinuation.yield(frame)
    }

    /// Messages queued and not yet written.
    var pendingWriteCount: Int { state.withLock { $0.pendingWriteCount } }

    /// Stops the transport: with `abort`, at once; otherwise the queued messages are written
    /// first and the WebSocket is closed with 1000. A transport that is not open yet is always
    /// aborted.
    func detach(abort: Bool) {
        let mustAbort = state.withLock { state in
            state.isDetached = true
            return abort || !state.isOpen
        }
        writesContinuation.finish()
        setReadPaused(false)
        if mustAbort { stop.resolve(true) }
    }

    /// Stops or resumes reading (backpressure from the application).
    func setReadPaused(_ paused: Bool) {
        let waiter = state.withLock { state in
            state.isReadPaused = paused
            if paused { return nil as CheckedContinuation<Void, Never>? }
            defer { state.resumeReading = nil }
            return state.resumeReading
        }
        waiter?.resume()
    }

    /// Opens the WebSocket and serves it until it closes or is detached; the last event it
    /// reports is ``ClientDriverEvent/webSocketEnded(id:error:)``.
    func run(
        url: String,
        configuration: WebSocketClientConfiguration,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger,
        events: AsyncStream<ClientDriverEvent>.Continuation
    ) async {
        let error = await withTaskGroup(of: RunOutcome.self) { group in
            group.addTask {
                do {
                    try await WebSocketConnection.connect(
                        to: url,
                        configuration: configuration,
                        eventLoopGroup: eventLoopGroup,
                        logger: logger
                    ) { connection in
                        guard self.markOpen() else { return }
                        events.yield(.webSocketOpened(id: self.id))
                        try await self.serve(connection, events: events)
                    }
                    return .ended(nil)
                } catch {
                    return .ended(Self.translating(error))
                }
            }
            group.addTask {
                // Aborting cancels the connection task, wherever it is.
                await self.stop.value ? .aborted : .watcherDone
            }
            var error: EngineIOError? = nil
            while let outcome = await group.next() {
                switch outcome {
                case .ended(let ended):
                    error = ended
                    stop.resolve(false)
                case .aborted:
                    group.cancelAll()
                case .watcherDone:
                    break
                }
            }
            return error
        }
        events.yield(.webSocketEnded(id: id, error: error))
    }

    /// Reads and writes until the peer closes (returns), the WebSocket fails (throws), or the
    /// transport is detached (returns once the queued messages are written).
    private func serve(_ connection: WebSocketConnection, events: AsyncStream<ClientDriverEvent>.Continuation)
        async throws
    {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await message in connection.messages {
                    let frame: EngineIOWebSocketFrame
                    switch message.kind {
                    case .text: frame = .text(String(buffer: message.data))
                    case .binary: frame = .binary(message.data)
                    }
                    events.yield(.webSocketReceived(id: self.id, frame))
                    await self.waitWhileReadPaused()
                }
            }
            group.addTask {
                for await frame in self.writes {
                    switch frame {
                    case .text(let text): try await connection.send(.text(text))
                    case .binary(let bytes): try await connection.send(.binary(bytes))
                    }
                    let isDrained = self.state.withLock { state in
                        state.pendingWriteCount -= 1
                        return state.pendingWriteCount == 0
                    }
                    if isDrained { events.yield(.webSocketDrained(id: self.id)) }
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    private func markOpen() -> Bool {
        state.withLock { state in
            state.isOpen = true
            return !state.isDetached
        }
    }

    private func waitWhileReadPaused() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let mustWait = state.withLock { state in
                    guard state.isReadPaused, !Task.isCancelled else { return false }
                    state.resumeReading = continuation
                    return true
                }
                if !mustWait { continuation.resume() }
            }
        } onCancel: {
            // Tearing down: nobody will resume reading.
            setReadPaused(false)
        }
    }

    /// The Engine.IO error for a failure of the WebSocket layer, with it as cause.
    static func translating(_ error: any Error) -> EngineIOError {
        guard let webSocketError = error as? WebSocketError else {
            if error is CancellationError {
                return EngineIOError(.cancelled, "the WebSocket was cancelled", cause: error)
            }
            return EngineIOError(.transportError, "the WebSocket failed: \(error)", cause: error)
        }
        if webSocketError.code == .handshakeRejected, let status = webSocketError.response?.status.code {
            return EngineIOError(
                .handshakeRejected,
                "the WebSocket handshake was answered HTTP \(status)",
                cause: webSocketError,
                response: EngineIOError.Response(status: status)
            )
        }
        if webSocketError.code == .cancelled {
            return EngineIOError(.cancelled, "the WebSocket was cancelled", cause: webSocketError)
        }
        switch webSocketError.code.category {
        case .connection, .handshake:
            return EngineIOError(.connectionFailed, "the WebSocket could not be opened", cause: webSocketError)
        default:
            return EngineIOError(.transportError, "the WebSocket failed", cause: webSocketError)
        }
    }
}
