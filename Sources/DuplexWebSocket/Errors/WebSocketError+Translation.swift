import DuplexWebSocketCore
import NIOCore
import NIOPosix
import NIOSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension WebSocketError {
    /// Maps any lower-level failure to the documented code, keeping it as `cause`
    /// (DESIGN.md: "Every error the library originates has that type, whatever failed underneath").
    static func translating(_ error: any Error, during phase: String) -> WebSocketError {
        if let error = error as? WebSocketError { return error }
        if error is CancellationError {
            return WebSocketError(.cancelled, "cancelled during \(phase)", cause: error)
        }
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            return WebSocketError(.tlsHandshakeFailed, "TLS failed during \(phase)", cause: error)
        }
        if let channelError = error as? ChannelError {
            switch channelError {
            case .connectTimeout:
                return WebSocketError(.openingTimedOut, "TCP connect timed out", cause: error)
            case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed, .inputClosed:
                return peerClosed(during: phase, cause: error)
            default:
                break
            }
        }
        if let ioError = error as? IOError {
            switch ioError.errnoCode {
            case ECONNRESET, EPIPE, ECONNABORTED:
                return peerClosed(during: phase, cause: error)
            default:
                return WebSocketError(.connectionFailed, "I/O error during \(phase): \(ioError.description)", cause: error)
            }
        }
        if let connectionError = error as? NIOConnectionError {
            let reset = connectionError.connectionErrors.contains { ($0.error as? IOError)?.errnoCode == ECONNRESET }
            if reset { return peerClosed(during: phase, cause: error) }
            return WebSocketError(.connectionFailed, "could not connect", cause: error)
        }
        if error is SocketAddressError {
            return WebSocketError(.connectionFailed, "could not connect", cause: error)
        }
        return WebSocketError(.connectionFailed, "failed during \(phase): \(error)", cause: error)
    }

    /// The server accepted TCP, then closed or reset it before a complete response. A reset and
    /// a close get the same code: which one the kernel reports is a matter of timing, and an error
    /// whose type depends on timing breaks retry loops (DESIGN.md, "What users were bitten by").
    static func peerClosed(during phase: String, cause: any Error) -> WebSocketError {
        WebSocketError(.invalidHandshakeResponse, "connection closed or reset by the server during \(phase)", cause: cause)
    }
}
