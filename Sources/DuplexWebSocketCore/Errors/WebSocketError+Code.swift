extension WebSocketError {
    /// A stable error code. Open enum: codes may be added in minor releases, so `switch`
    /// statements over it need a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Hashable, Sendable {
            case invalidURL
            case connectionFailed
            case tlsHandshakeFailed
            case proxyFailed
            case openingTimedOut
            case cancelled
            case handshakeRejected
            case invalidHandshakeResponse
            case headersTooLarge
            case negotiationFailed
            case tooManyRedirects
            case invalidHandshakeRequest
            case protocolViolation
            case invalidUTF8
            case messageTooLarge
            case keepAliveTimedOut
            case connectionClosed
            case sendAfterClose
            case concurrentReceive
            case invalidCloseCode
            case invalidConfiguration
            case internalError
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The URL is malformed or its scheme is not `ws`/`wss` (no I/O was attempted).
        public static var invalidURL: Self { Self(.invalidURL) }
        /// TCP could not be established: refused, unreachable, DNS failure.
        public static var connectionFailed: Self { Self(.connectionFailed) }
        /// The TLS handshake failed (certificate, protocol, hostname).
        public static var tlsHandshakeFailed: Self { Self(.tlsHandshakeFailed) }
        /// The HTTP proxy refused the CONNECT request or was unreachable.
        public static var proxyFailed: Self { Self(.proxyFailed) }
        /// TCP + TLS + HTTP upgrade did not complete within the open timeout.
        public static var openingTimedOut: Self { Self(.openingTimedOut) }
        /// The task was cancelled.
        public static var cancelled: Self { Self(.cancelled) }
        /// The server answered the upgrade with a status other than 101; see ``WebSocketError/response``.
        public static var handshakeRejected: Self { Self(.handshakeRejected) }
        /// The server's response is not a valid WebSocket handshake: the connection was closed or
        /// reset before or while reading the status line (whichever the kernel reports: the code
        /// does not depend on that timing), garbage, bad `Sec-WebSocket-Accept`, missing
        /// `Upgrade`/`Connection`.
        public static var invalidHandshakeResponse: Self { Self(.invalidHandshakeResponse) }
        /// The peer's HTTP head exceeded the configured size or header-count limit.
        public static var headersTooLarge: Self { Self(.headersTooLarge) }
        /// The server selected an extension or subprotocol the client did not offer.
        public static var negotiationFailed: Self { Self(.negotiationFailed) }
        /// More redirects than allowed, a redirect loop, or a redirect to an unsupported URL.
        public static var tooManyRedirects: Self { Self(.tooManyRedirects) }
        /// Server side: the client's upgrade request is not a valid WebSocket handshake.
        public static var invalidHandshakeRequest: Self { Self(.invalidHandshakeRequest) }
        /// The peer broke RFC 6455 framing rules (close code 1002).
        public static var protocolViolation: Self { Self(.protocolViolation) }
        /// A text message or close reason is not valid UTF-8 (close code 1007).
        public static var invalidUTF8: Self { Self(.invalidUTF8) }
        /// A frame, message or decompressed message exceeds its limit (close code 1009).
        public static var messageTooLarge: Self { Self(.messageTooLarge) }
        /// No pong arrived within the keepalive timeout (close code 1011).
        public static var keepAliveTimedOut: Self { Self(.keepAliveTimedOut) }
        /// The connection closed; see ``WebSocketError/closeInfo`` for the close frames.
        public static var connectionClosed: Self { Self(.connectionClosed) }
        /// A send, ping or close was requested after the connection started closing.
        public static var sendAfterClose: Self { Self(.sendAfterClose) }
        /// Two tasks iterated the same inbound message sequence.
        public static var concurrentReceive: Self { Self(.concurrentReceive) }
        /// The application asked to send a close code that RFC 6455 §7.4 forbids on the wire.
        public static var invalidCloseCode: Self { Self(.invalidCloseCode) }
        /// The configuration is inconsistent (e.g. TLS requested without a context).
        public static var invalidConfiguration: Self { Self(.invalidConfiguration) }
        /// A failure inside Duplex or its dependencies that fits no other code (close code 1011).
        public static var internalError: Self { Self(.internalError) }

        /// The family of failure, for retry decisions and exit codes.
        public var category: Category {
            switch value {
            case .invalidURL, .connectionFailed, .tlsHandshakeFailed, .proxyFailed,
                .openingTimedOut, .cancelled:
                return .connection
            case .handshakeRejected, .invalidHandshakeResponse, .headersTooLarge, .negotiationFailed,
                .tooManyRedirects, .invalidHandshakeRequest:
                return .handshake
            case .protocolViolation, .invalidUTF8, .messageTooLarge:
                return .protocolViolation
            case .keepAliveTimedOut, .connectionClosed:
                return .closed
            case .sendAfterClose, .concurrentReceive, .invalidCloseCode:
                return .usage
            case .invalidConfiguration, .internalError:
                return .configuration
            }
        }

        /// A short, bounded name, safe as a metric label.
        public var description: String { value.rawValue }
    }

    /// Families of ``Code``.
    public struct Category: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// Could not establish the connection (TCP, TLS, proxy, timeout, cancellation, bad URL).
        public static let connection = Category("connection")
        /// The HTTP upgrade failed.
        public static let handshake = Category("handshake")
        /// The peer violated RFC 6455 / 7692.
        public static let protocolViolation = Category("protocolViolation")
        /// The established connection is closed.
        public static let closed = Category("closed")
        /// The API was misused.
        public static let usage = Category("usage")
        /// Configuration problems and internal failures.
        public static let configuration = Category("configuration")
        public var description: String { name }
    }
}
