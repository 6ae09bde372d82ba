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
/// Time is passed in. Offsets are `offsetPrefix` followed by a counter that increases with
/// every packet; ``snapshot(now:unixTime:)`` and
/// ``init(maxDisconnectionDuration:offsetPrefix:restoring:now:unixTime:)`` carry the state over
/// a server restart.
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

    /// Creates a store holding the state a previous server run saved
    /// (``SocketIORecoverySnapshot/Namespace``), at monotonic time `now`, which is wall-clock
    /// time `unixTime` (milliseconds since 1970).
    ///
    /// Each entry's age is measured on the wall clock, so the time the server was down counts:
    /// entries older than `maxDisconnectionDuration` are dropped, the others expire when they
    /// would have without the restart. New offsets continue after the saved counter (and after
    /// any offset in the log) with the new `offsetPrefix`, so they never repeat an old one.
    public init(
        maxDisconnectionDuration: TimeAmount,
        offsetPrefix: String,
        restoring state: SocketIORecoverySnapshot.Namespace,
        now: NIODeadline,
        unixTime: Int64
    ) {
        self.init(maxDisconnectionDuration: maxDisconnectionDuration, offsetPrefix: offsetPrefix)
        let maximumAge = maxDisconnectionDuration.nanoseconds / 1_000_000
        // A time in the future (the clock moved back) counts as now.
        func deadline(of time: Int64) -> NIODeadline? {
            let age = max(0, unixTime &- time)
            guard age <= maximumAge else { return nil }
            return now - .milliseconds(age)
        }
        counter = state.offsetCounter
        // Kept in time order, which expiry relies on (stable for equal times).
        let packets = state.packets.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }
        for (_, packet) in packets {
            // An offset is `prefix-<counter in base 36>`: never issue one of the log again.
            if let dash = packet.offset.lastIndex(of: "-"),
                let issued = UInt64(packet.offset[packet.offset.index(after: dash)...], radix: 36)
            {
                counter = max(counter, issued)
            }
            guard let time = deadline(of: packet.time) else { continue }
            self.packets.append(
                StoredPacket(offset: packet.offset, time: time, data: packet.data, rooms: packet.rooms, except: packet.except)
            )
        }
        for entry in state.sessions.sorted(by: { $0.disconnectedAt < $1.disconnectedAt }) {
            guard let time = deadline(of: entry.disconnectedAt) else { continue }
            sessions[entry.session.pid] = Stored(session: entry.session, disconnectedAt: time)
            sessionExpiry.append((entry.session.pid, time))
        }
    }

    /// The state to save for the next server run (expired entries left out), with monotonic
    /// time `now` being wall-clock time `unixTime` (milliseconds since 1970).
    public func snapshot(now: NIODeadline, unixTime: Int64) -> SocketIORecoverySnapshot.Namespace {
        let threshold = now - maxDisconnectionDuration
        func wallClock(of time: NIODeadline) -> Int64 {
            unixTime - (now - time).nanoseconds / 1_000_000
        }
        var state = SocketIORecoverySnapshot.Namespace(offsetCounter: counter)
        for packet in packets where packet.time >= threshold {
            state.packets.append(
                SocketIORecoverySnapshot.Packet(
                    offset: packet.offset,
                    time: wallClock(of: packet.time),
                    data: packet.data,
                    rooms: packet.rooms,
                    except: packet.except
                )
            )
        }
        // `sessionExpiry` is in persisting order; an entry whose pid was persisted again later
        // (or restored) is stale.
        for entry in sessionExpiry where entry.disconnectedAt >= threshold {
            guard let stored = sessions[entry.pid], stored.disconnectedAt == entry.disconnectedAt else { continue }
            state.sessions.append(
                SocketIORecoverySnapshot.Session(session: stored.session, disconnectedAt: wallClock(of: stored.disconnectedAt))
            )
        }
        return state
    }

    /// The number of packets held.
    public var packetCount: Int { packets.count }

    /// The number of sessions held.
    public var sessionCount: Int { sessions.count }

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
