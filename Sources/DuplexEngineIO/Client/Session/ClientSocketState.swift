import DuplexEngineIOCore
import Synchronization

/// The state a ``ClientSessionDriver`` shares with the application: the session's transport and
/// its subscribers, the sends waiting to be taken, and whether the messages are being iterated.
final class ClientSocketState: Sendable {
    private struct State {
        var transport: EngineIOTransport
        var isFinished = false
        var nextSubscriberID = 0
        var subscribers: [Int: AsyncStream<EngineIOTransport>.Continuation] = [:]
        var nextSendID = 0
        var sendWaiters: [Int: SendWaiter] = [:]
    }

    /// Resumed once the session took a message, or could not.
    typealias SendWaiter = CheckedContinuation<Result<Void, EngineIOError>, Never>

    private let state: Mutex<State>
    private let isIterating = Atomic<Bool>(false)

    init(transport: EngineIOTransport) {
        state = Mutex(State(transport: transport))
    }

    /// Whether the session is over.
    var isFinished: Bool { state.withLock { $0.isFinished } }

    /// The transport carrying the session now.
    var transport: EngineIOTransport { state.withLock { $0.transport } }

    /// Records a transport change and tells every subscriber.
    func transportChanged(to transport: EngineIOTransport) {
        let subscribers = state.withLock { state in
            state.transport = transport
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.yield(transport) }
    }

    /// The session is over: every transport stream ends, and every send still waiting (and
    /// every later one) fails with ``EngineIOError/Code/sessionClosed``.
    func finish() {
        let (subscribers, waiters) = state.withLock { state in
            state.isFinished = true
            defer {
                state.subscribers = [:]
                state.sendWaiters = [:]
            }
            return (Array(state.subscribers.values), Array(state.sendWaiters.values))
        }
        for subscriber in subscribers { subscriber.finish() }
        for waiter in waiters { waiter.resume(returning: .failure(Self.closedError)) }
    }

    /// Registers a send waiting to be taken; `nil` (and `waiter` resumed with an error) once
    /// the session is over.
    func registerSend(_ waiter: SendWaiter) -> Int? {
        let id: Int? = state.withLock { state in
            guard !state.isFinished else { return nil }
            let id = state.nextSendID
            state.nextSendID += 1
            state.sendWaiters[id] = waiter
            return id
        }
        if id == nil { waiter.resume(returning: .failure(Self.closedError)) }
        return id
    }

    /// Resumes the send registered as `id`.
    func resolveSend(_ id: Int, _ result: Result<Void, EngineIOError>) {
        let waiter = state.withLock { $0.sendWaiters.removeValue(forKey: id) }
        waiter?.resume(returning: result)
    }

    private static var closedError: EngineIOError { EngineIOError(.sessionClosed, "the session is closed") }

    /// A stream of the current transport, then each change, ending with the session.
    func transportUpdates() -> AsyncStream<EngineIOTransport> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: EngineIOTransport.self,
            bufferingPolicy: .bufferingNewest(8)
        )
        let id: Int? = state.withLock { state in
            continuation.yield(state.transport)
            guard !state.isFinished else { return nil }
            let id = state.nextSubscriberID
            state.nextSubscriberID += 1
            state.subscribers[id] = continuation
            return id
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Returns true the first time only: the messages may be iterated by one task.
    func claimIteration() -> Bool {
        isIterating.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged
    }
}
