import Synchronization

/// A value set once and awaited by any number of tasks (the outcome of opening, the end of a
/// session, a stop request).
final class ClientOneShot<Value: Sendable>: Sendable {
    private enum State {
        case waiting([CheckedContinuation<Value, Never>])
        case resolved(Value)
    }

    private let state = Mutex<State>(.waiting([]))

    init() {}

    /// Sets the value and wakes every waiter. Only the first call counts; returns whether it
    /// was this one.
    @discardableResult
    func resolve(_ value: Value) -> Bool {
        let waiters: [CheckedContinuation<Value, Never>]? = state.withLock { state in
            guard case .waiting(let waiters) = state else { return nil }
            state = .resolved(value)
            return waiters
        }
        guard let waiters else { return false }
        for waiter in waiters { waiter.resume(returning: value) }
        return true
    }

    /// The value, once set.
    var value: Value {
        get async {
            await withCheckedContinuation { continuation in
                let resolved: Value? = state.withLock { state in
                    switch state {
                    case .waiting(var waiters):
                        waiters.append(continuation)
                        state = .waiting(waiters)
                        return nil
                    case .resolved(let value):
                        return value
                    }
                }
                if let resolved { continuation.resume(returning: resolved) }
            }
        }
    }
}
