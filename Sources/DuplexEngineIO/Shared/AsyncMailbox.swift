import Synchronization

/// An unbounded queue with one consumer task that takes everything queued at once.
///
/// It replaces `AsyncStream` on the per-message paths of a session (delivery to the
/// application, a socket's jobs, a WebSocket's writes): `AsyncStream` resolves generic metadata
/// on every `yield` and `next` and wakes its consumer once per element, while the consumer here
/// wakes once per batch, takes the batch with one lock, and the code is specialized for its
/// element type. Bounds are the callers' business (the session's flow control).
///
/// Lock order: the mailbox never calls out while holding its lock, so producers may append
/// while holding their own locks.
///
/// SPI-public rather than `package`: the compiler does not make the bodies of `@inlinable
/// package` declarations available to other modules, so `DuplexSocketIO` ran it unspecialized
/// (generic metadata lookups on every append, 3.7 % of the server's CPU at one client).
@_spi(DuplexInternal)
public final class AsyncMailbox<Element: Sendable>: Sendable {
    @usableFromInline
    struct State {
        @usableFromInline var elements: [Element] = []
        @usableFromInline var isFinished = false
        @usableFromInline var waiter: CheckedContinuation<Void, Never>?

        @usableFromInline init() {}
    }

    @usableFromInline let state = Mutex(State())

    @inlinable
    public init() {}

    /// Queues an element; returns false (and drops it) once the mailbox is finished.
    @inlinable
    @discardableResult
    public func append(_ element: Element) -> Bool {
        let (isQueued, waiter): (Bool, CheckedContinuation<Void, Never>?) = state.withLock { state in
            guard !state.isFinished else { return (false, nil) }
            state.elements.append(element)
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume()
        return isQueued
    }

    /// No more elements: the consumer takes what is queued, then gets nil.
    @inlinable
    public func finish() {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            state.isFinished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Finishes the mailbox and drops what is queued; returns the dropped elements.
    @inlinable
    @discardableResult
    public func discard() -> [Element] {
        let (dropped, waiter): ([Element], CheckedContinuation<Void, Never>?) = state.withLock { state in
            state.isFinished = true
            defer {
                state.elements = []
                state.waiter = nil
            }
            return (state.elements, state.waiter)
        }
        waiter?.resume()
        return dropped
    }

    /// Waits until elements are queued and takes them all, in order. Returns nil once the
    /// mailbox is finished and empty, or when the task is cancelled while nothing is queued.
    /// One task at a time may call it.
    @inlinable
    public func takeAll() async -> [Element]? {
        while true {
            let taken: [Element]?? = state.withLock { state in
                if !state.elements.isEmpty {
                    defer { state.elements = [] }
                    return .some(state.elements)
                }
                return state.isFinished || Task.isCancelled ? .some(nil) : nil
            }
            if let taken { return taken }
            await waitForChange()
        }
    }

    /// Suspends until an element is appended, the mailbox finishes, or the task is cancelled.
    @inlinable
    func waitForChange() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let isReady: Bool = state.withLock { state in
                    guard state.elements.isEmpty, !state.isFinished, !Task.isCancelled else { return true }
                    state.waiter = continuation
                    return false
                }
                if isReady { continuation.resume() }
            }
        } onCancel: {
            let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
