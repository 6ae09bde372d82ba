import NIOCore

/// The connection state recovery state of a server (protocol.md 4.2.8), saved at a graceful
/// shutdown and handed to the next server run so that clients reconnecting to it are
/// recovered: per namespace, the sessions of the disconnected sockets and the packet log.
///
/// Times are wall-clock (Unix time in milliseconds), not the process's monotonic clock, so
/// that the time the server was down counts against `maxDisconnectionDuration`: entries older
/// than that are dropped when the snapshot is restored.
///
/// `Codable` for storage (`JSONEncoder` writes a versioned, self-contained document). Event
/// data and socket data are stored in the socket.io-parser wire format (a packet text plus its
/// binary attachments), so binary values survive the round trip.
public struct SocketIORecoverySnapshot: Hashable, Sendable, Codable {
    /// The storage format written by this version; decoding another one fails.
    public static let formatVersion = 1

    /// When the snapshot was taken (Unix time, milliseconds).
    public var takenAt: Int64
    /// The state of each namespace, by name.
    public var namespaces: [String: Namespace]

    /// Creates a snapshot.
    public init(takenAt: Int64, namespaces: [String: Namespace] = [:]) {
        self.takenAt = takenAt
        self.namespaces = namespaces
    }

    /// Whether the snapshot holds no session (there is nothing a client could recover).
    public var isEmpty: Bool { sessionCount == 0 }

    /// The number of persisted sessions, in every namespace.
    public var sessionCount: Int { namespaces.values.reduce(0) { $0 + $1.sessions.count } }

    /// The number of logged packets, in every namespace.
    public var packetCount: Int { namespaces.values.reduce(0) { $0 + $1.packets.count } }

    /// The recovery state of one namespace.
    public struct Namespace: Hashable, Sendable, Codable {
        /// The counter behind the offsets issued so far; offsets issued after a restore
        /// continue from it, so that they never repeat an offset of the log.
        public var offsetCounter: UInt64
        /// The sessions of disconnected sockets, oldest first.
        public var sessions: [Session]
        /// The packet log, oldest first.
        public var packets: [Packet]

        /// Creates a namespace state.
        public init(offsetCounter: UInt64, sessions: [Session] = [], packets: [Packet] = []) {
            self.offsetCounter = offsetCounter
            self.sessions = sessions
            self.packets = packets
        }
    }

    /// A persisted session and when its socket disconnected.
    public struct Session: Hashable, Sendable, Codable {
        /// The session.
        public var session: SocketIOPersistedSession
        /// When the socket disconnected (Unix time, milliseconds).
        public var disconnectedAt: Int64

        /// Creates a session entry.
        public init(session: SocketIOPersistedSession, disconnectedAt: Int64) {
            self.session = session
            self.disconnectedAt = disconnectedAt
        }

        private enum CodingKeys: String, CodingKey {
            case sid, pid, rooms, data, disconnectedAt
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            session = SocketIOPersistedSession(
                sid: try container.decode(String.self, forKey: .sid),
                pid: try container.decode(String.self, forKey: .pid),
                rooms: Set(try container.decode([String].self, forKey: .rooms)),
                data: try container.decode(WirePayload.self, forKey: .data).value(codingPath: container.codingPath)
            )
            disconnectedAt = try container.decode(Int64.self, forKey: .disconnectedAt)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(session.sid, forKey: .sid)
            try container.encode(session.pid, forKey: .pid)
            // Sorted: the same state always writes the same document.
            try container.encode(session.rooms.sorted(), forKey: .rooms)
            try container.encode(WirePayload(session.data), forKey: .data)
            try container.encode(disconnectedAt, forKey: .disconnectedAt)
        }
    }

    /// A logged packet.
    public struct Packet: Hashable, Sendable, Codable {
        /// The offset, also the last element of ``data``.
        public var offset: String
        /// When it was broadcast (Unix time, milliseconds).
        public var time: Int64
        /// `[eventName, ...args, offset]`.
        public var data: JSONValue
        /// The rooms it was sent to (empty: every socket of the namespace).
        public var rooms: Set<String>
        /// The rooms excluded.
        public var except: Set<String>

        /// Creates a packet entry.
        public init(offset: String, time: Int64, data: JSONValue, rooms: Set<String>, except: Set<String>) {
            self.offset = offset
            self.time = time
            self.data = data
            self.rooms = rooms
            self.except = except
        }

        private enum CodingKeys: String, CodingKey {
            case offset, time, data, rooms, except
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            offset = try container.decode(String.self, forKey: .offset)
            time = try container.decode(Int64.self, forKey: .time)
            data = try container.decode(WirePayload.self, forKey: .data).value(codingPath: container.codingPath)
            rooms = Set(try container.decode([String].self, forKey: .rooms))
            except = Set(try container.decode([String].self, forKey: .except))
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(offset, forKey: .offset)
            try container.encode(time, forKey: .time)
            try container.encode(WirePayload(data), forKey: .data)
            try container.encode(rooms.sorted(), forKey: .rooms)
            try container.encode(except.sorted(), forKey: .except)
        }
    }

    private enum CodingKeys: String, CodingKey {
        case formatVersion, takenAt, namespaces
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let version = try container.decode(Int.self, forKey: .formatVersion)
        guard version == Self.formatVersion else {
            throw DecodingError.dataCorruptedError(
                forKey: .formatVersion,
                in: container,
                debugDescription: "unsupported recovery snapshot format \(version) (expected \(Self.formatVersion))"
            )
        }
        takenAt = try container.decode(Int64.self, forKey: .takenAt)
        namespaces = try container.decode([String: Namespace].self, forKey: .namespaces)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.formatVersion, forKey: .formatVersion)
        try container.encode(takenAt, forKey: .takenAt)
        try container.encode(namespaces, forKey: .namespaces)
    }
}

/// A JSON value stored as a socket.io-parser ACK packet (`3` + ack id `0` + `[value]`, or
/// BINARY_ACK with its attachments): the wire format keeps binary values, which plain JSON
/// cannot, and reuses the packet encoder and decoder.
private struct WirePayload: Codable {
    var packet: String
    var attachments: [[UInt8]]?

    init(_ value: JSONValue) {
        let encoded = SocketIOPacketEncoder().encode(.ack([value], ackID: 0))
        packet = encoded.text
        attachments = encoded.attachments.isEmpty ? nil : encoded.attachments.map { Array($0.readableBytesView) }
    }

    func value(codingPath: [any CodingKey]) throws -> JSONValue {
        let attachments = self.attachments ?? []
        // The server's `maxJSONDepth` may exceed the default; a stored value is one level deeper.
        var decoder = SocketIOPacketDecoder(maxAttachments: attachments.count, maxDepth: 256)
        do {
            var output = try decoder.textReceived(packet)
            for attachment in attachments {
                output = try decoder.binaryReceived(ByteBuffer(bytes: attachment))
            }
            guard case .packet(let packet) = output, packet.type == .ack || packet.type == .binaryAck,
                case .array(let elements)? = packet.data, elements.count == 1
            else {
                throw SocketIOError(.invalidPacket, "not a one-element ACK packet")
            }
            return elements[0]
        } catch {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: codingPath, debugDescription: "invalid stored payload: \(error)")
            )
        }
    }
}
