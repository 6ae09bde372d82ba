import DuplexSocketIOCore
import Synchronization

/// The meeting point of an awaited acknowledgement and whichever comes first: the reply, a
/// failure, or cancellation (which may happen before the continuation exists).
final class ClientAckOutcome: Sendable {
    private enum State {
        case waiting(CheckedContinuation<Result<[JSONValue], SocketIOError>, Never>?)
        case resolved(Result<[JSONValue], SocketIOError>?)
    }

    private let state = Mutex(State.waiting(nil))

    func install(_ continuation: CheckedContinuation<Result<[JSONValue], SocketIOError>, Never>) {
        let early: Result<[JSONValue], SocketIOError>? = state.withLock { state in
            switch state {
            case .waiting:
                state = .waiting(continuation)
                return nil
            case .resolved(let result):
                state = .resolved(nil)
                return result
            }
        }
        if let early { continuation.resume(returning: early) }
    }

    func resolve(_ result: Result<[JSONValue], SocketIOError>) {
        let continuation: CheckedContinuation<Result<[JSONValue], SocketIOError>, Never>? = state.withLock { state in
            switch state {
            case .waiting(let continuation):
                state = .resolved(continuation == nil ? result : nil)
                return continuation
            case .resolved:
                return nil
            }
        }
        continuation?.resume(returning: result)
    }
}
