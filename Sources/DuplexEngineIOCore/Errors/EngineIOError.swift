/// The one error type of the Engine.IO layer.
///
/// Every failure that Duplex's Engine.IO code originates has this type, whatever failed
/// underneath (the WebSocket layer, NIO, HTTP parsing, cancellation). Match on ``code``;
/// ``message`` is for humans and may change in any release. The lower-level failure, when
/// there is one, is in ``cause``.
///
/// On the server, ``httpStatus``, ``wireCode`` and ``httpResponseBody`` are the one mapping
/// from a rejected request to what goes on the wire, so every adapter answers alike.
public struct EngineIOError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong; stable across releases.
    public var code: Code
    /// A human-readable explanation. Not API: may change in any release.
    public var message: String
    /// The underlying error, for diagnostics. Not part of equality.
    public var cause: (any Error)?
    /// The server's answer, for ``Code/handshakeRejected`` (client side).
    public var response: Response?

    /// A rejected HTTP response as the client saw it.
    public struct Response: Hashable, Sendable {
        /// The HTTP status code.
        public var status: Int
        /// The `code` field of the server's JSON error body, if it had one (0–5, see ``EngineIOError/wireCode``).
        public var wireCode: Int?
        /// The `message` field of the server's JSON error body, if it had one.
        public var message: String?

        /// Creates a response description.
        public init(status: Int, wireCode: Int? = nil, message: String? = nil) {
            self.status = status
            self.wireCode = wireCode
            self.message = message
        }
    }

    /// Creates an error.
    public init(_ code: Code, _ message: String, cause: (any Error)? = nil, response: Response? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
        self.response = response
    }

    /// The reference server's error code (protocol.md 4.1.1):
    /// 0 transport unknown, 1 session ID unknown (also for a closed session), 2 bad handshake
    /// method, 3 bad request, 4 forbidden, 5 unsupported protocol version. For
    /// ``Code/handshakeRejected`` it is the code the server sent. `nil` for every other error.
    public var wireCode: Int? {
        if code == .handshakeRejected { return response?.wireCode }
        return code.serverWireCode
    }

    /// The HTTP status a server answers a request with when it fails with this error:
    /// 403 for ``Code/forbidden``, 413 for ``Code/payloadTooLarge``, 500 for
    /// ``Code/internalError``, 400 otherwise (protocol.md 4.1.1, 4.1.4).
    public var httpStatus: Int {
        switch code {
        case .forbidden: return 403
        case .payloadTooLarge: return 413
        case .internalError: return 500
        default: return 400
        }
    }

    /// The JSON body the reference server sends with a rejected request,
    /// `{"code":N,"message":"…"}` (protocol.md 4.1.1); `nil` when the error has no ``wireCode``.
    public var httpResponseBody: String? {
        guard let wireCode else { return nil }
        let text: String
        switch wireCode {
        case 0: text = "Transport unknown"
        case 1: text = "Session ID unknown"
        case 2: text = "Bad handshake method"
        case 3: text = "Bad request"
        case 4: text = "Forbidden"
        case 5: text = "Unsupported protocol version"
        default: text = "Unknown error"
        }
        return "{\"code\":\(wireCode),\"message\":\"\(text)\"}"
    }

    /// Whether retrying later can succeed: connection failures (not cancellation), closed
    /// sessions (reconnect), failed upgrades (the session goes on over polling), and handshake
    /// rejections with a 5xx, 408 or 429 status. Request rejections, protocol violations and
    /// configuration errors are not retryable.
    public var isRetryable: Bool {
        switch code.category {
        case .connection:
            return code != .cancelled
        case .closed, .upgrade:
            return true
        case .handshake:
            guard let status = response?.status else { return true }
            return status >= 500 || status == 408 || status == 429
        default:
            return false
        }
    }

    public var description: String {
        var text = "EngineIOError.\(code): \(message)"
        if let response { text += " [HTTP \(response.status)\(response.wireCode.map { ", code \($0)" } ?? "")]" }
        if let cause { text += " (cause: \(String(describing: cause)))" }
        return text
    }

    /// Equality compares code, message and response, not ``cause``, so that `Equatable`
    /// actions can carry errors.
    public static func == (lhs: EngineIOError, rhs: EngineIOError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.response == rhs.response
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(message)
    }

    /// Walks the chain of `EngineIOError` causes and returns the first error of type `T`,
    /// this one included.
    public func underlyingError<T: Error>(as type: T.Type) -> T? {
        var current: (any Error)? = self
        var depth = 0
        while let error = current, depth < 16 {
            if let match = error as? T { return match }
            guard let engineIOError = error as? EngineIOError else { return nil }
            current = engineIOError.cause
            depth += 1
        }
        return nil
    }
}
