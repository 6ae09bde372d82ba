extension SocketIOError {
    /// A stable error code. Open enum: codes may be added in minor releases, so `switch`
    /// statements over it need a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Hashable, Sendable {
            case invalidPacket
            case invalidJSON
            case jsonTooDeep
            case tooManyAttachments
            case invalidAttachment
            case namespaceRefused
            case namespaceNotFound
            case ackTimedOut
            case notConnected
            case connectFailed
            case disconnected
            case encodingFailed
            case decodingFailed
            case invalidConfiguration
            case cancelled
            case internalError
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// A received packet breaks the Socket.IO grammar or its payload rules (socket.io-protocol
        /// §"Packet encoding", ref impl `isPayloadValid`): unknown type digit, malformed attachment
        /// count, ack id that is not a run of digits or does not fit in `UInt64`, a payload of the
        /// wrong JSON kind for the type, a reserved event name, or a missing or invalid namespace.
        public static var invalidPacket: Self { Self(.invalidPacket) }
        /// A payload is not valid RFC 8259 JSON (including invalid UTF-8 and raw control
        /// characters in strings).
        public static var invalidJSON: Self { Self(.invalidJSON) }
        /// A JSON payload nests arrays and objects deeper than the configured maximum depth.
        public static var jsonTooDeep: Self { Self(.jsonTooDeep) }
        /// A binary packet header announces more attachments than the configured maximum
        /// (`maxAttachments`, default 10, as socket.io-parser).
        public static var tooManyAttachments: Self { Self(.tooManyAttachments) }
        /// Binary attachments break the protocol: a `_placeholder` object without a valid `num`,
        /// a placeholder index outside `[0, count)`, a text packet while attachments are still
        /// pending, or a binary message when no binary header is pending.
        public static var invalidAttachment: Self { Self(.invalidAttachment) }
        /// The server refused the namespace connection (CONNECT_ERROR); the server's payload is in
        /// ``SocketIOError/data``.
        public static var namespaceRefused: Self { Self(.namespaceRefused) }
        /// The namespace does not exist on the server (CONNECT_ERROR `"Invalid namespace"` from
        /// the reference server, or a connect to a namespace the server does not serve).
        public static var namespaceNotFound: Self { Self(.namespaceNotFound) }
        /// No acknowledgement arrived within the requested timeout.
        public static var ackTimedOut: Self { Self(.ackTimedOut) }
        /// An emit or other operation was attempted on a socket that is not connected to its
        /// namespace.
        public static var notConnected: Self { Self(.notConnected) }
        /// The underlying Engine.IO connection could not be established; the Engine.IO error is
        /// the ``SocketIOError/cause``.
        public static var connectFailed: Self { Self(.connectFailed) }
        /// The connection or the namespace was disconnected (by the peer, the transport, or a
        /// ping timeout) while an operation was outstanding.
        public static var disconnected: Self { Self(.disconnected) }
        /// An `Encodable` value could not be converted to a ``JSONValue``; the encoding error
        /// is the ``SocketIOError/cause``.
        public static var encodingFailed: Self { Self(.encodingFailed) }
        /// A ``JSONValue`` received from the peer does not match the `Decodable` type the
        /// application asked for; the `DecodingError` is the ``SocketIOError/cause``.
        public static var decodingFailed: Self { Self(.decodingFailed) }
        /// The configuration is inconsistent (e.g. a negative limit).
        public static var invalidConfiguration: Self { Self(.invalidConfiguration) }
        /// The task was cancelled.
        public static var cancelled: Self { Self(.cancelled) }
        /// A failure inside Duplex or its dependencies that fits no other code.
        public static var internalError: Self { Self(.internalError) }

        /// The family of failure, for retry decisions and exit codes.
        public var category: Category {
            switch value {
            case .connectFailed, .cancelled:
                return .connection
            case .namespaceRefused, .namespaceNotFound:
                return .handshake
            case .invalidPacket, .invalidJSON, .jsonTooDeep, .tooManyAttachments, .invalidAttachment,
                .decodingFailed:
                return .protocolViolation
            case .ackTimedOut:
                return .timeout
            case .disconnected:
                return .closed
            case .notConnected, .encodingFailed:
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
        /// Could not establish the connection (Engine.IO failure, cancellation).
        public static let connection = Category("connection")
        /// The namespace connection was refused.
        public static let handshake = Category("handshake")
        /// The peer violated the Socket.IO protocol or sent data of an unexpected shape.
        public static let protocolViolation = Category("protocolViolation")
        /// An operation did not complete in time; the connection is still open.
        public static let timeout = Category("timeout")
        /// The connection or namespace is closed.
        public static let closed = Category("closed")
        /// The API was misused.
        public static let usage = Category("usage")
        /// Configuration problems and internal failures.
        public static let configuration = Category("configuration")
        public var description: String { name }
    }
}
