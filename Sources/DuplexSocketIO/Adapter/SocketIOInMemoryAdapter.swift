import DuplexSocketIOCore
import NIOCore
import Synchronization

/// The default adapter: rooms in memory, broadcasts to the sockets of this server
/// (socket.io-adapter `Adapter`, with `SessionAwareAdapter`'s connection state recovery when
/// the server enables it). Cluster adapters can wrap one for their local state.
public final class SocketIOInMemoryAdapter: SocketIOAdapter {
    /// The namespace whose sockets this adapter reaches.
    public let namespace: SocketIONamespace
    private let state: Mutex<State>

    private struct State: ~Copyable {
        /// room → socket ids.
        var rooms: [String: Set<String>] = [:]
        /// socket id → rooms.
        var socketRooms: [String: Set<String>] = [:]
        var recovery: SocketIOSessionRecoveryStore?
    }

    /// Creates the adapter of `namespace`; `recovery` enables connection state recovery, and
    /// its ``SocketIOConnectionStateRecovery/restoring`` snapshot, if any, provides the
    /// namespace's saved sessions and packets.
    public init(namespace: SocketIONamespace, recovery: SocketIOConnectionStateRecovery?) {
        self.namespace = namespace
        var state = State()
        if let recovery {
            let duration = TimeAmount(recovery.maxDisconnectionDuration)
            // A new prefix per adapter: offsets of different server runs stay apart even if
            // an old snapshot is restored twice.
            let prefix = String(UInt32.random(in: .min ... .max), radix: 36) + "-"
            if let saved = recovery.restoring?.namespaces[namespace.name] {
                state.recovery = SocketIOSessionRecoveryStore(
                    maxDisconnectionDuration: duration,
                    offsetPrefix: prefix,
                    restoring: saved,
                    now: .now(),
                    unixTime: SocketIOWallClock.now()
                )
            } else {
                state.recovery = SocketIOSessionRecoveryStore(maxDisconnectionDuration: duration, offsetPrefix: prefix)
            }
        }
        self.state = Mutex(state)
    }

    // MARK: - Rooms

    public func addAll(_ socketID: String, rooms: Set<String>) {
        state.withLock { state in
            state.socketRooms[socketID, default: []].formUnion(rooms)
            for room in rooms { state.rooms[room, default: []].insert(socketID) }
        }
    }

    public func del(_ socketID: String, room: String) {
        state.withLock { state in
            state.socketRooms[socketID]?.remove(room)
            Self.removeMember(socketID, of: room, in: &state.rooms)
        }
    }

    public func delAll(_ socketID: String) {
        state.withLock { state in
            guard let rooms = state.socketRooms.removeValue(forKey: socketID) else { return }
            for room in rooms { Self.removeMember(socketID, of: room, in: &state.rooms) }
        }
    }

    public func rooms(of socketID: String) -> Set<String>? {
        state.withLock { $0.socketRooms[socketID] }
    }

    public func sockets(in rooms: Set<String>) -> Set<String> {
        state.withLock { state in
            Self.targets(SocketIOBroadcastOptions(rooms: rooms), state: state)
        }
    }

    public var allRooms: Set<String> { state.withLock { Set($0.rooms.keys) } }

    private static func removeMember(_ socketID: String, of room: String, in rooms: inout [String: Set<String>]) {
        guard var members = rooms[room] else { return }
        members.remove(socketID)
        rooms[room] = members.isEmpty ? nil : members
    }

    /// The ids of the sockets `options` selects (socket.io-adapter `apply`).
    private static func targets(_ options: SocketIOBroadcastOptions, state: borrowing State) -> Set<String> {
        var excluded: Set<String> = []
        for room in options.except {
            if let members = state.rooms[room] { excluded.formUnion(members) }
        }
        var selected: Set<String> = []
        if options.rooms.isEmpty {
            for id in state.socketRooms.keys where !excluded.contains(id) { selected.insert(id) }
        } else {
            for room in options.rooms {
                guard let members = state.rooms[room] else { continue }
                for id in members where !excluded.contains(id) { selected.insert(id) }
            }
        }
        return selected
    }

    private func localTargets(_ options: SocketIOBroadcastOptions) -> [SocketIOSocket] {
        let ids: [String] = state.withLock { state in
            // A plain broadcast selects every socket: the keys are distinct, nothing to hash.
            if options.rooms.isEmpty && options.except.isEmpty { return Array(state.socketRooms.keys) }
            return Array(Self.targets(options, state: state))
        }
        return namespace.sockets(ids: ids)
    }

    // MARK: - Broadcasting

    public func broadcast(_ packet: SocketIOPacket, options: SocketIOBroadcastOptions) {
        var packet = packet
        if packet.type == .event, packet.ackID == nil, !options.isVolatile, case .array(let data)? = packet.data {
            // SessionAwareAdapter#broadcast: store the event and append its offset.
            let recorded: [JSONValue]? = state.withLock { state in
                state.recovery?.record(eventData: data, rooms: options.rooms, except: options.except, now: .now())
            }
            if let recorded { packet.data = .array(recorded) }
        }
        // Encoded once; each recipient's session queues the same messages without waiting.
        let outgoing = SocketIOOutgoingPacket(packet)
        let targets = localTargets(options)
        namespace.server.metrics.broadcast(recipients: targets.count)
        for socket in targets {
            socket.deliver(outgoing, volatile: options.isVolatile)
        }
    }

    public func broadcastWithAck(
        _ packet: SocketIOPacket,
        options: SocketIOBroadcastOptions,
        timeout: Duration,
        onClientCount: @escaping @Sendable (Int) -> Void,
        onAck: @escaping @Sendable ([JSONValue]) -> Void
    ) {
        let outgoing = SocketIOOutgoingPacket(packet)
        let targets = localTargets(options)
        namespace.server.metrics.broadcast(recipients: targets.count)
        var count = 0
        for socket in targets
        where socket.deliver(outgoing, volatile: options.isVolatile, timeout: timeout, onAck: onAck) {
            count += 1
        }
        onClientCount(count)
    }

    // MARK: - Bulk operations

    public func fetchSockets(_ options: SocketIOBroadcastOptions) async throws(SocketIOError) -> [SocketIORemoteSocket] {
        localTargets(options).map(SocketIORemoteSocket.init)
    }

    public func addSockets(_ options: SocketIOBroadcastOptions, rooms: Set<String>) async throws(SocketIOError) {
        for socket in localTargets(options) { socket.join(rooms) }
    }

    public func delSockets(_ options: SocketIOBroadcastOptions, rooms: Set<String>) async throws(SocketIOError) {
        for socket in localTargets(options) {
            for room in rooms { socket.leave(room) }
        }
    }

    public func disconnectSockets(_ options: SocketIOBroadcastOptions, close: Bool) async throws(SocketIOError) {
        for socket in localTargets(options) { socket.disconnect(close: close) }
    }

    /// A single server has no other node to reach: does nothing.
    public func serverSideEmit(_ data: [JSONValue]) async throws(SocketIOError) {}

    public func serverCount() async -> Int { 1 }

    // MARK: - Connection state recovery

    public var supportsRecovery: Bool { state.withLock { $0.recovery != nil } }

    public func persistSession(_ session: SocketIOPersistedSession) async {
        state.withLock { $0.recovery?.persist(session, now: .now()) }
    }

    public func restoreSession(pid: String, offset: String) async -> (session: SocketIOPersistedSession, missed: [JSONValue])? {
        state.withLock { $0.recovery?.restore(pid: pid, offset: offset, now: .now()) }
    }

    public func recoverySnapshot() async -> SocketIORecoverySnapshot.Namespace? {
        state.withLock { $0.recovery?.snapshot(now: .now(), unixTime: SocketIOWallClock.now()) }
    }

    public func close() async {}
}
