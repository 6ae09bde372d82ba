import DuplexSocketIOCore

/// Where a namespace keeps its rooms and how it reaches its sockets, modelled on Node's
/// `socket.io-adapter` so that a cluster adapter (several server nodes sharing rooms through
/// PostgreSQL, Redis…) can replace ``SocketIOInMemoryAdapter`` without any change to the server.
///
/// ## Contract
///
/// - One adapter per namespace, created by the server's adapter factory with the namespace.
/// - **Room membership of local sockets** (``addAll(_:rooms:)``, ``del(_:room:)``,
///   ``delAll(_:)``, ``rooms(of:)``, ``sockets(in:)``) is synchronous and local: the server
///   calls them on join, leave and disconnect, and every socket is in the room named after its
///   id. A cluster adapter keeps local state in memory (typically by wrapping a
///   ``SocketIOInMemoryAdapter``) and publishes what other nodes need.
/// - **``broadcast(_:options:)``** must not suspend or wait for any recipient: encode the packet
///   once (``SocketIOOutgoingPacket``) and hand it to each local target with
///   ``SocketIOSocket/deliver(_:volatile:)``. Unless ``SocketIOBroadcastOptions/isLocal``, a
///   cluster adapter also forwards it to the other nodes, asynchronously.
/// - **``broadcastWithAck(_:options:timeout:onClientCount:onAck:)``**: the packet already has
///   its ack id. Report how many clients it was sent to with `onClientCount` (once per node for
///   a cluster adapter: the caller adds the counts) and every reply with `onAck`. The caller
///   owns the overall timeout.
/// - **Bulk operations** (``fetchSockets(_:)``, ``addSockets(_:rooms:)``,
///   ``delSockets(_:rooms:)``, ``disconnectSockets(_:close:)``) apply to the local sockets the
///   options select and, unless local, to those of the other nodes.
/// - **``serverSideEmit(_:)``** sends an event to the other nodes (never to the local one); a
///   node receiving one calls ``SocketIONamespace/receiveServerSideEmit(_:)``.
/// - **Connection state recovery** (``persistSession(_:)``, ``restoreSession(pid:offset:)``,
///   and offsets appended by ``broadcast(_:options:)``): only adapters whose
///   ``supportsRecovery`` is true; the others ignore the calls and restore nothing.
/// - **Graceful restart** (``recoverySnapshot()``): an adapter that keeps recovery state in
///   process memory returns it for ``SocketIOServer/recoverySnapshot(timeout:)``, and restores
///   its namespace's part of ``SocketIOConnectionStateRecovery/restoring`` when the factory
///   creates it. Optional: the default returns nil (an adapter whose state lives in shared
///   storage, such as a database, survives a restart without it).
/// - Failures inside the adapter never throw into the broadcasting code; bulk operations
///   throw ``SocketIOError`` when they cannot complete.
public protocol SocketIOAdapter: AnyObject, Sendable {
    /// Adds local socket `socketID` to `rooms`.
    func addAll(_ socketID: String, rooms: Set<String>)
    /// Removes local socket `socketID` from `room`.
    func del(_ socketID: String, room: String)
    /// Removes local socket `socketID` from every room.
    func delAll(_ socketID: String)
    /// The rooms of local socket `socketID`, or nil if it is unknown.
    func rooms(of socketID: String) -> Set<String>?
    /// The ids of the local sockets in any of `rooms` (every local socket when empty).
    func sockets(in rooms: Set<String>) -> Set<String>
    /// Every room that has a local socket.
    var allRooms: Set<String> { get }

    /// Sends `packet` to the sockets `options` selects (see the contract).
    func broadcast(_ packet: SocketIOPacket, options: SocketIOBroadcastOptions)
    /// Sends `packet` (with an ack id) and reports the recipients and their replies.
    func broadcastWithAck(
        _ packet: SocketIOPacket,
        options: SocketIOBroadcastOptions,
        timeout: Duration,
        onClientCount: @escaping @Sendable (Int) -> Void,
        onAck: @escaping @Sendable ([JSONValue]) -> Void
    )

    /// The sockets `options` selects, on every node unless local.
    func fetchSockets(_ options: SocketIOBroadcastOptions) async throws(SocketIOError) -> [SocketIORemoteSocket]
    /// Makes the selected sockets join `rooms`.
    func addSockets(_ options: SocketIOBroadcastOptions, rooms: Set<String>) async throws(SocketIOError)
    /// Makes the selected sockets leave `rooms`.
    func delSockets(_ options: SocketIOBroadcastOptions, rooms: Set<String>) async throws(SocketIOError)
    /// Disconnects the selected sockets (and closes their Engine.IO sessions with `close`).
    func disconnectSockets(_ options: SocketIOBroadcastOptions, close: Bool) async throws(SocketIOError)
    /// Sends `[event, ...args]` to the same namespace on the other nodes.
    func serverSideEmit(_ data: [JSONValue]) async throws(SocketIOError)
    /// The number of server nodes (1 for a single server).
    func serverCount() async -> Int

    /// Whether this adapter implements connection state recovery.
    var supportsRecovery: Bool { get }
    /// Keeps the state of a socket that disconnected for a recoverable reason.
    func persistSession(_ session: SocketIOPersistedSession) async
    /// Takes back a persisted session and the event data (offset last) the socket missed.
    func restoreSession(pid: String, offset: String) async -> (session: SocketIOPersistedSession, missed: [JSONValue])?

    /// The connection state recovery state of the namespace, with wall-clock times, to carry
    /// over a server restart; nil when the adapter has none to save (the default).
    func recoverySnapshot() async -> SocketIORecoverySnapshot.Namespace?

    /// Releases resources when the server shuts down.
    func close() async
}

extension SocketIOAdapter {
    /// Nothing to save: the adapter does not keep recovery state in this process.
    public func recoverySnapshot() async -> SocketIORecoverySnapshot.Namespace? { nil }
}
