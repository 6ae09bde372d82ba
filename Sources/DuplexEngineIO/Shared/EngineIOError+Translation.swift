import DuplexEngineIOCore
import DuplexWebSocketCore
import HTTPTypes

/// Where a lower-level failure happened, which decides the Engine.IO code it becomes.
package enum EngineIOFailurePhase: Sendable {
    /// Opening a session (client): connection-level failures are `connectionFailed`, a non-101 or
    /// non-200 answer is `handshakeRejected`.
    case connecting
    /// Upgrading a session to WebSocket: every failure is `upgradeFailed`, and the session goes on
    /// over polling.
    case upgrading
    /// On an established transport: `transportClosed` for a closed connection, `transportError`
    /// for anything else.
    case transport
}

extension EngineIOError {
    /// Maps any lower-level failure to the documented Engine.IO code, keeping it as `cause`
    /// (DESIGN.md, Errors: "Every error the library originates has that type, whatever failed
    /// underneath"). An `EngineIOError` is returned unchanged; cancellation is always `cancelled`.
    package static func translating(_ error: any Error, during phase: EngineIOFailurePhase) -> EngineIOError {
        if let error = error as? EngineIOError { return error }
        let webSocketError = error as? WebSocketError
        if error is CancellationError || webSocketError?.code == .cancelled {
            return EngineIOError(.cancelled, "cancelled", cause: error)
        }
        switch phase {
        case .upgrading:
            return EngineIOError(.upgradeFailed, "the WebSocket upgrade failed", cause: error)
        case .connecting:
            guard let webSocketError else {
                return EngineIOError(.connectionFailed, "could not connect", cause: error)
            }
            switch webSocketError.code.category {
            case .handshake:
                let response = webSocketError.response.map { EngineIOError.Response(status: $0.status.code) }
                return EngineIOError(
                    .handshakeRejected,
                    "the server refused the WebSocket handshake",
                    cause: error,
                    response: response
                )
            case .configuration, .usage:
                return EngineIOError(.invalidConfiguration, webSocketError.message, cause: error)
            default:
                return EngineIOError(.connectionFailed, "could not connect", cause: error)
            }
        case .transport:
            if webSocketError?.code.category == .closed {
                return EngineIOError(.transportClosed, "the transport closed", cause: error)
            }
            return EngineIOError(.transportError, "the transport failed", cause: error)
        }
    }
}
