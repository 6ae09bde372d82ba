/// The one error type of the Socket.IO layer.
///
/// Every failure that Duplex's Socket.IO code originates has this type, whatever failed
/// underneath (Engine.IO, WebSocket, JSON, cancellation). Match on ``code``; ``message`` is for
/// humans and may change in any release. The lower-level failure, when there is one, is in
/// ``cause`` (an `EngineIOError` for ``Code/connectFailed``, a `DecodingError` for
/// ``Code/decodingFailed``).
public struct SocketIOError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong; stable across releases.
    public var code: Code
    /// A human-readable explanation. Not API: may change in any release.
    public var message: String
    /// The underlying error, for diagnostics. Not part of equality.
    public var cause: (any Error)?
    /// The server's CONNECT_ERROR payload, for ``Code/namespaceRefused`` and
    /// ``Code/namespaceNotFound``: in protocol v5 an object `{"message": …, "data"?: …}`,
    /// in protocol v4 (and from python-socketio for unknown namespaces) a string.
    public var data: JSONValue?

    /// Creates an error.
    public init(_ code: Code, _ message: String, cause: (any Error)? = nil, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
        self.data = data
    }

    /// Whether retrying the same operation later can succeed: connection failures, ack
    /// timeouts and disconnections. Refusals, protocol violations, usage errors and
    /// cancellation are not retryable.
    public var isRetryable: Bool {
        switch code.category {
        case .connection:
            return code != .cancelled
        case .timeout, .closed:
            return true
        default:
            return false
        }
    }

    /// The lower-level error this one wraps (same as ``cause``), for walking chains of causes
    /// across layers.
    public var underlyingCause: (any Error)? { cause }

    /// Walks the chain of `SocketIOError` causes and returns the first error of type `T`, this
    /// one included.
    public func underlyingError<T: Error>(as type: T.Type) -> T? {
        var current: (any Error)? = self
        var depth = 0
        while let error = current, depth < 16 {
            if let match = error as? T { return match }
            guard let socketIOError = error as? SocketIOError else { return nil }
            current = socketIOError.cause
            depth += 1
        }
        return nil
    }

    public var description: String {
        var text = "SocketIOError.\(code): \(message)"
        if let data { text += " [data: \(data)]" }
        if let cause { text += " (cause: \(String(describing: cause)))" }
        return text
    }

    public static func == (lhs: SocketIOError, rhs: SocketIOError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.data == rhs.data
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(message)
    }
}
