import DuplexSocketIOCore
import Synchronization

/// The events a ``SocketIOSimpleClient`` has received and not yet handed out, and the one
/// ``SocketIOSimpleClient/receive(timeout:)`` call waiting for the next.
final class ClientEventInbox: Sendable {
    private struct State {
        var events: [SocketIOClientEvent] = []
        var head = 0
        var waiter: (id: UInt64, continuation: CheckedContinuation<Result<SocketIOClientEvent?, SocketIOError>, Never>)?
        var nextWaiterID: UInt64 = 0
        var finalError: SocketIOError?
    }

    private let state = Mutex(State())

    func push(_ event: SocketIOClientEvent) {
        let waiter = state.withLock { state in
            guard state.finalError == nil else { return nil as CheckedContinuation<Result<SocketIOClientEvent?, SocketIOError>, Never>? }
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter.continuation
            }
            state.events.append(event)
            return nil
        }
        waiter?.resume(returning: .success(event))
    }

    /// No more events will come; waiting and later receives fail with `error` once the
    /// remaining events are taken.
    func finish(_ error: SocketIOError) {
        let waiter = state.withLock { state in
            if state.finalError == nil { state.finalError = error }
            defer { state.waiter = nil }
            return state.waiter?.continuation
        }
        waiter?.resume(returning: .failure(error))
    }

    /// The next event; nil when `timeout` passes first.
    func next(timeout: Duration?) async throws(SocketIOError) -> SocketIOClientEvent? {
        let id = state.withLock { state in
            defer { state.nextWaiterID &+= 1 }
            return state.nextWaiterID
        }
        let timer = timeout.map { timeout in
            Task {
                do { try await Task.sleep(for: timeout) } catch { return }
                self.resolveWaiter(id, with: .success(nil))
            }
        }
        defer { timer?.cancel() }
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<SocketIOClientEvent?, SocketIOError>, Never>) in
                let immediate: Result<SocketIOClientEvent?, SocketIOError>? = state.withLock { state in
                    if state.head < state.events.count {
                        let event = state.events[state.head]
                        state.head += 1
                        if state.head == state.events.count {
                            state.events.removeAll(keepingCapacity: true)
                            state.head = 0
                        }
                        return .success(event)
                    }
                    if let finalError = state.finalError { return .failure(finalError) }
                    if let previous = state.waiter {
                        previous.continuation.resume(returning: .failure(SocketIOError(.internalError, "concurrent receive")))
                    }
                    state.waiter = (id, continuation)
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            resolveWaiter(id, with: .failure(SocketIOError(.cancelled, "receive was cancelled")))
        }
        return try result.get()
    }

    private func resolveWaiter(_ id: UInt64, with result: Result<SocketIOClientEvent?, SocketIOError>) {
        let waiter = state.withLock { state in
            guard let waiter = state.waiter, waiter.id == id else {
                return nil as CheckedContinuation<Result<SocketIOClientEvent?, SocketIOError>, Never>?
            }
            state.waiter = nil
            return waiter.continuation
        }
        waiter?.resume(returning: result)
    }
}
