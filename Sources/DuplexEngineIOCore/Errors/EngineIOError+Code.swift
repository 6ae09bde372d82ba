extension EngineIOError {
    /// A stable error code. Open enum: codes may be added in minor releases, so `switch`
    /// statements over it need a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Hashable, Sendable {
            case transportUnknown
            case sessionIdUnknown
            case badHandshakeMethod
            case badRequest
            case forbidden
            case unsupportedProtocolVersion
            case invalidPacket
            case invalidPayload
            case payloadTooLarge
            case pingTimeout
            case transportClosed
            case transportError
            case sessionClosed
            case upgradeFailed
            case upgradeTimedOut
            case connectionFailed
            case handshakeRejected
            case cancelled
            case invalidConfiguration
            case internalError
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// Server: the `transport` query parameter is missing, unknown or not enabled
        /// (wire code 0, "Transport unknown").
        public static var transportUnknown: Self { Self(.transportUnknown) }
        /// Server: the `sid` is malformed or names no live session (wire code 1, "Session ID unknown").
        public static var sessionIdUnknown: Self { Self(.sessionIdUnknown) }
        /// Server: a request without `sid` (a handshake) is not a GET (wire code 2, "Bad handshake method").
        public static var badHandshakeMethod: Self { Self(.badHandshakeMethod) }
        /// Server: the request is malformed or breaks a transport rule: duplicated or invalid
        /// query parameters, a `transport=websocket` request that is not an upgrade, a second
        /// concurrent GET or POST, polling on an upgraded session, a second WebSocket, a v4 POST
        /// with a binary content type (wire code 3, "Bad request").
        public static var badRequest: Self { Self(.badRequest) }
        /// Server: the application refused the handshake (wire code 4, "Forbidden", HTTP 403).
        public static var forbidden: Self { Self(.forbidden) }
        /// Server: `EIO` is missing or not 4 (not 3 or 4 when v3 is allowed)
        /// (wire code 5, "Unsupported protocol version").
        public static var unsupportedProtocolVersion: Self { Self(.unsupportedProtocolVersion) }
        /// A packet is malformed: empty, unknown type digit, bad base64, invalid UTF-8, or a
        /// packet that makes no sense where it arrived (e.g. `open` sent by a client).
        public static var invalidPacket: Self { Self(.invalidPacket) }
        /// A polling payload is malformed: bad framing, bad length prefix, empty, more packets
        /// than allowed, invalid UTF-8, bad JSONP form body.
        public static var invalidPayload: Self { Self(.invalidPayload) }
        /// A polling body or WebSocket message is larger than `maxPayload` (HTTP 413).
        public static var payloadTooLarge: Self { Self(.payloadTooLarge) }
        /// The peer did not answer a ping in time (v4 server, v4 client) or stayed silent for
        /// `pingInterval + pingTimeout` (v3 server).
        public static var pingTimeout: Self { Self(.pingTimeout) }
        /// The transport closed without an Engine.IO `close` packet.
        public static var transportClosed: Self { Self(.transportClosed) }
        /// The transport failed (I/O error, protocol error on the transport).
        public static var transportError: Self { Self(.transportError) }
        /// The session is closed: a request or send arrived after the close (HTTP 400, wire code 1).
        public static var sessionClosed: Self { Self(.sessionClosed) }
        /// A transport upgrade failed: the probe WebSocket closed or sent an unexpected packet.
        /// The session stays on polling.
        public static var upgradeFailed: Self { Self(.upgradeFailed) }
        /// The client did not complete the upgrade (`5`) within `upgradeTimeout`.
        /// The session stays on polling.
        public static var upgradeTimedOut: Self { Self(.upgradeTimedOut) }
        /// Client: the connection could not be established (refused, DNS, TLS, timeout).
        public static var connectionFailed: Self { Self(.connectionFailed) }
        /// Client: the server answered the handshake with an error status; see
        /// ``EngineIOError/response``.
        public static var handshakeRejected: Self { Self(.handshakeRejected) }
        /// The task was cancelled.
        public static var cancelled: Self { Self(.cancelled) }
        /// The configuration is inconsistent (e.g. a non-positive interval or limit).
        public static var invalidConfiguration: Self { Self(.invalidConfiguration) }
        /// A failure inside Duplex or its dependencies that fits no other code (HTTP 500).
        public static var internalError: Self { Self(.internalError) }

        /// The family of failure, for retry decisions and exit codes.
        public var category: Category {
            switch value {
            case .transportUnknown, .sessionIdUnknown, .badHandshakeMethod, .badRequest, .forbidden,
                .unsupportedProtocolVersion:
                return .request
            case .invalidPacket, .invalidPayload, .payloadTooLarge:
                return .protocolViolation
            case .pingTimeout, .transportClosed, .transportError, .sessionClosed:
                return .closed
            case .upgradeFailed, .upgradeTimedOut:
                return .upgrade
            case .connectionFailed, .cancelled:
                return .connection
            case .handshakeRejected:
                return .handshake
            case .invalidConfiguration, .internalError:
                return .configuration
            }
        }

        /// The reference server's error code (`packages/engine.io/lib/server.ts`, protocol.md
        /// 4.1.1), sent in the JSON body of a rejected request.
        var serverWireCode: Int? {
            switch value {
            case .transportUnknown: return 0
            case .sessionIdUnknown, .sessionClosed: return 1
            case .badHandshakeMethod: return 2
            case .badRequest: return 3
            case .forbidden: return 4
            case .unsupportedProtocolVersion: return 5
            default: return nil
            }
        }

        /// A short, bounded name, safe as a metric label.
        public var description: String { value.rawValue }
    }

    /// Families of ``Code``.
    public struct Category: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// The server rejected an HTTP request (wire codes 0–5).
        public static let request = Category("request")
        /// The peer sent malformed packets or payloads.
        public static let protocolViolation = Category("protocolViolation")
        /// The established session or its transport is closed.
        public static let closed = Category("closed")
        /// A transport upgrade failed; the session continues on polling.
        public static let upgrade = Category("upgrade")
        /// Could not establish the connection (including cancellation).
        public static let connection = Category("connection")
        /// The server rejected the client's handshake.
        public static let handshake = Category("handshake")
        /// Configuration problems and internal failures.
        public static let configuration = Category("configuration")
        public var description: String { name }
    }
}
