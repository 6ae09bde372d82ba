import HTTPTypes

/// The one error type of the WebSocket layer.
///
/// Every failure that Duplex's WebSocket code originates has this type, whatever failed
/// underneath (NIO, TLS, HTTP parsing, cancellation). Match on ``code``; ``message`` is for
/// humans and may change in any release. The lower-level failure, when there is one, is in
/// ``cause``. The table of failure scenarios and their codes is public API (see
/// `Docs/Errors.md`) and is pinned by the error-contract tests.
public struct WebSocketError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong; stable across releases.
    public var code: Code
    /// A human-readable explanation. Not API: may change in any release.
    public var message: String
    /// The underlying error, for diagnostics. Not part of equality.
    public var cause: (any Error)?
    /// The HTTP response, for ``Code/handshakeRejected``, redirect failures and a proxy's
    /// refusal of CONNECT (``Code/proxyFailed``).
    public var response: HTTPResponse?
    /// The first bytes (at most 4 KiB) of a rejected handshake's response body.
    public var responseBody: [UInt8]?
    /// Close frames exchanged, for ``Code/connectionClosed`` and protocol failures.
    public var closeInfo: CloseInfo?

    /// Creates an error.
    public init(
        _ code: Code,
        _ message: String,
        cause: (any Error)? = nil,
        response: HTTPResponse? = nil,
        responseBody: [UInt8]? = nil,
        closeInfo: CloseInfo? = nil
    ) {
        self.code = code
        self.message = message
        self.cause = cause
        self.response = response
        self.responseBody = responseBody
        self.closeInfo = closeInfo
    }

    /// Whether retrying the same operation later can succeed (connection failures, timeouts,
    /// handshake or proxy rejections with a 5xx status, abnormal closures). Protocol violations,
    /// 4xx rejections (but 408 and 429) and usage errors are not retryable.
    public var isRetryable: Bool {
        switch code.category {
        case .connection:
            // A proxy that answered CONNECT (407 needs credentials, 403 forbids the target)
            // answers the same next time; one that could not be reached may come back.
            if code == .proxyFailed, let status = response?.status.code {
                return Self.isRetryableStatus(status)
            }
            return code != .invalidURL && code != .cancelled
        case .handshake:
            if code == .handshakeRejected, let status = response?.status.code {
                return Self.isRetryableStatus(status)
            }
            // A peer that closes or sends garbage before its status line is typically a
            // server that is starting or restarting (the case that broke retry loops elsewhere).
            return code == .invalidHandshakeResponse && response == nil
        case .closed:
            return true
        case .protocolViolation, .usage, .configuration:
            return false
        default:
            return false
        }
    }

    /// Whether a refusal with this HTTP status may go away: server errors (RFC 9110 §15.6),
    /// 408 Request Timeout (§15.5.9) and 429 Too Many Requests (RFC 6585 §4).
    private static func isRetryableStatus(_ status: Int) -> Bool {
        status >= 500 || status == 429 || status == 408
    }

    /// The close code to send when this error fails an established connection
    /// (RFC 6455 §7.4.1).
    public var closeCode: CloseCode {
        switch code {
        case .invalidUTF8: return .invalidPayloadData
        case .messageTooLarge: return .messageTooBig
        case .protocolViolation: return .protocolError
        case .internalError: return .internalError
        default: return .internalError
        }
    }

    public var description: String {
        var text = "WebSocketError.\(code): \(message)"
        if let status = response?.status { text += " [HTTP \(status.code) \(status.reasonPhrase)]" }
        if let closeInfo { text += " [\(closeInfo)]" }
        if let cause { text += " (cause: \(String(describing: cause)))" }
        return text
    }

    public static func == (lhs: WebSocketError, rhs: WebSocketError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.response == rhs.response
            && lhs.closeInfo == rhs.closeInfo
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(message)
    }

    /// Walks the chain of causes and returns the first error of type `T`, this one included.
    public func underlyingError<T: Error>(as type: T.Type) -> T? {
        var current: (any Error)? = self
        var depth = 0
        while let error = current, depth < 16 {
            if let match = error as? T { return match }
            if let ws = error as? WebSocketError {
                current = ws.cause
            } else if let chained = error as? any CausedError {
                current = chained.underlyingCause
            } else {
                return nil
            }
            depth += 1
        }
        return nil
    }
}

/// An error that wraps a lower-level cause; lets ``WebSocketError/underlyingError(as:)`` walk
/// chains made by higher layers (Engine.IO, Socket.IO).
public protocol CausedError: Error {
    /// The lower-level error this one wraps.
    var underlyingCause: (any Error)? { get }
}

extension WebSocketError: CausedError {
    public var underlyingCause: (any Error)? { cause }
}
