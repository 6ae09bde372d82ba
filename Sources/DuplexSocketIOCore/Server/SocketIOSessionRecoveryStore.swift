import NIOCore

/// The state that connection state recovery keeps for a disconnected socket (socket.io-adapter
/// `Session`): its id, private id, rooms and data.
public struct SocketIOPersistedSession: Hashable, Sendable {
    /// The socket id, restored on recovery.
    public var sid: String
    /// The private session id the client presents in its CONNECT payload.
    public var pid: String
    /// The rooms the socket was in (its own room included).
    public var rooms: Set<String>
    /// The socket's application data.
    public var data: JSONValue

    /// Creates a persisted session.
    public init(sid: String, pid: String, rooms: Set<String>, data: JSONValue) {
        self.sid = sid
        self.pid = pid
        self.rooms = rooms
        self.data = data
    }
}

/// Connection state recovery bookkeeping (socket.io-adapter `SessionAwareAdapter`, socket.io
/// ≥ 4.6; protocol.md 4.2.8), without I/O or clocks: the broadcast event packets of the last
/// `maxDisconnectionDuration`, with their offsets, and the sessions of recently disconnected
/// sockets.
///
/// Time is passed in. Offsets are strings that increase with every packet.
public struct SocketIOSessionRecoveryStore: Sendable {
    /// A stored packet: the event data (offset already appended) and who it was for.
    public struct StoredPacket: Hashable, Sendable {
        /// The offset, also the last element of ``data``.
        public var offset: String
        /// When it was broadcast.
        public var time: NIODeadline
        /// `[eventName, ...args, offset]`.
        public var data: JSONValue
        /// The rooms it was sent to (empty: every socket of the namespace).
        public var rooms: Set<String>
        /// The rooms excluded.
        public var except: Set<String>

        /// Whether a socket in `socketRooms` was a recipient (socket.io-adapter `shouldIncludePacket`).
        public func isFor(socketRooms: Set<String>) -> Bool {
            let included = rooms.isEmpty || !rooms.isDisjoint(with: socketRooms)
            let excluded = !except.isDisjoint(with: socketRooms)
            return included && !excluded
        }
    }

    private struct Stored: Sendable {
        var session: SocketIOPersistedSession
        var disconnectedAt: NIODeadline
    }

    /// How long state is kept.
    public let maxDisconnectionDuration: TimeAmount
    private var packets = CircularBuffer<StoredPacket>()
    private var sessions: [String: Stored] = [:]
    /// `(pid, disconnectedAt)` in persisting order, so that expiry only looks at the oldest.
    private var sessionExpiry = CircularBuffer<(pid: String, disconnectedAt: NIODeadline)>()
    private var counter: UInt64 = 0
    private let offsetPrefix: String

    /// Creates a store; `offsetPrefix` keeps offsets of different server runs apart.
    public init(maxDisconnectionDuration: TimeAmount, offsetPrefix: String) {
        self.maxDisconnectionDuration = maxDisconnectionDuration
        self.offsetPrefix = offsetPrefix
    }

    /// The number of packets held.
    public var packetCount: Int { packets.count }

    /// Records an event broadcast at `now`: appends a new offset to its data array and returns
    /// the data to send.
    public mutating func record(
        eventData: [JSONValue],
        rooms: Set<String>,
        except: Set<String>,
        now: NIODeadline
    ) -> [JSONValue] {
        expire(now: now)
        counter += 1
        let offset = offsetPrefix + String(counter, radix: 36)
        var data = eventData
        data.append(.string(offset))
        packets.append(StoredPacket(offset: offset, time: now, data: .array(data), rooms: rooms, except: except))
        return data
    }

    /// Keeps a disconnected socket's session.
    public mutating func persist(_ session: SocketIOPersistedSession, now: NIODeadline) {
        expire(now: now)
        sessions[session.pid] = Stored(session: session, disconnectedAt: now)
        sessionExpiry.append((session.pid, now))
    }

    /// Takes back the session `pid` if it disconnected less than ``maxDisconnectionDuration``
    /// ago and `offset` is still known, with the packets the socket missed after `offset`
    /// (socket.io-adapter `SessionAwareAdapter#restoreSession`). The session is removed.
    public mutating func restore(
        pid: String,
        offset: String,
        now: NIODeadline
    ) -> (session: SocketIOPersistedSession, missed: [JSONValue])? {
        expire(now: now)
        guard let stored = sessions.removeValue(forKey: pid) else { return nil }
        guard let index = packets.firstIndex(where: { $0.offset == offset }) else { return nil }
        var missed: [JSONValue] = []
        var position = packets.index(after: index)
        while position != packets.endIndex {
            let packet = packets[position]
            if packet.isFor(socketRooms: stored.session.rooms) { missed.append(packet.data) }
            position = packets.index(after: position)
        }
        return (stored.session, missed)
    }

    /// Drops packets and sessions older than ``maxDisconnectionDuration``.
    public mutating func expire(now: NIODeadline) {
        let threshold = now - maxDisconnectionDuration
        while let first = packets.first, first.time < threshold { packets.removeFirst() }
        while let oldest = sessionExpiry.first, oldest.disconnectedAt < threshold {
            sessionExpiry.removeFirst()
            // A session persisted again later has a later time and stays.
            if sessions[oldest.pid]?.disconnectedAt == oldest.disconnectedAt { sessions[oldest.pid] = nil }
        }
    }
}
