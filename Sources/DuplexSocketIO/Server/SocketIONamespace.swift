import DuplexSocketIOCore
import Synchronization

/// A connection middleware: runs when a client connects to a namespace, before the socket is
/// connected; throw ``SocketIOConnectionRefusal`` to refuse with a message and data.
public typealias SocketIOMiddleware = @Sendable (SocketIOSocket) async throws -> Void

/// A Socket.IO namespace (socket.io `Namespace`): its connection middlewares and handlers, its
/// sockets on this server, and its adapter (rooms and broadcasting).
public final class SocketIONamespace: Sendable {
    /// The name, starting with `/`.
    public let name: String
    /// The server.
    public let server: SocketIOServer
    /// The parent whose pattern created this namespace, for dynamic namespaces.
    public let parent: SocketIOParentNamespace?
    /// Where rooms live and how broadcasts reach sockets.
    public var adapter: any SocketIOAdapter {
        // Set once at the end of `init` (the factory needs `self`), never nil afterwards.
        adapterStorage.withLock { $0! }
    }

    private let adapterStorage = Mutex<(any SocketIOAdapter)?>(nil)
    private let state = Mutex(State())
    private let ackIDs = Atomic<UInt64>(0)

    private struct State {
        var middlewares: [SocketIOMiddleware] = []
        var connectionHandlers: [@Sendable (SocketIOSocket) async -> Void] = []
        var serverSideHandlers: [String: [@Sendable ([JSONValue]) async -> Void]] = [:]
        var sockets: [String: SocketIOSocket] = [:]
    }

    init(
        name: String,
        server: SocketIOServer,
        parent: SocketIOParentNamespace?,
        makeAdapter: (SocketIONamespace) -> any SocketIOAdapter
    ) {
        self.name = name
        self.server = server
        self.parent = parent
        adapterStorage.withLock { $0 = makeAdapter(self) }
    }

    // MARK: - Connections

    /// Adds a connection middleware, run after the server's (and the parent's) in order.
    public func use(_ middleware: @escaping SocketIOMiddleware) {
        state.withLock { $0.middlewares.append(middleware) }
    }

    /// Calls `handler` with every socket that connects, once it is connected and before any of
    /// its events are handled (socket.io `connection`). Register the socket's handlers here.
    public func onConnection(_ handler: @escaping @Sendable (SocketIOSocket) async -> Void) {
        state.withLock { $0.connectionHandlers.append(handler) }
    }

    var middlewares: [SocketIOMiddleware] {
        (parent?.middlewares ?? []) + state.withLock { $0.middlewares }
    }

    var connectionHandlers: [@Sendable (SocketIOSocket) async -> Void] {
        (parent?.connectionHandlers ?? []) + state.withLock { $0.connectionHandlers }
    }

    // MARK: - Local sockets

    /// The sockets of this namespace connected to this server.
    public var localSockets: [SocketIOSocket] { state.withLock { Array($0.sockets.values) } }

    /// The local socket `id`, if connected to this server.
    public func socket(id: String) -> SocketIOSocket? {
        state.withLock { $0.sockets[id] }
    }

    /// The local sockets with these ids, in their order, skipping ids not connected here (one
    /// lock for a whole broadcast instead of one per recipient).
    func sockets(ids: some Sequence<String>) -> [SocketIOSocket] {
        state.withLock { state in ids.compactMap { state.sockets[$0] } }
    }

    /// A socket joined the namespace (its CONNECT was accepted).
    func add(_ socket: SocketIOSocket) {
        state.withLock { $0.sockets[socket.id] = socket }
        server.metrics.connectionOpened()
    }

    func remove(_ socket: SocketIOSocket) {
        state.withLock { state in
            if state.sockets[socket.id] === socket { state.sockets[socket.id] = nil }
        }
    }

    /// A new acknowledgement id, unique in this namespace (socket.io `nsp._ids`).
    public func nextAckID() -> UInt64 {
        ackIDs.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    // MARK: - Broadcasting

    /// A broadcast to every socket of the namespace.
    public var broadcast: SocketIOBroadcastOperator { SocketIOBroadcastOperator(namespace: self) }

    /// A broadcast to the sockets in `rooms`.
    public func to(_ rooms: String...) -> SocketIOBroadcastOperator { broadcast.to(Set(rooms)) }

    /// A broadcast to the sockets in `rooms` (same as ``to(_:)``).
    public func `in`(_ rooms: String...) -> SocketIOBroadcastOperator { broadcast.to(Set(rooms)) }

    /// A broadcast to every socket except those in `rooms`.
    public func except(_ rooms: String...) -> SocketIOBroadcastOperator { broadcast.except(Set(rooms)) }

    /// Sends an event to every socket of the namespace.
    public func emit(_ event: String, _ arguments: JSONValue...) {
        broadcast.emit(event, arguments: arguments)
    }

    /// The sockets of the namespace, on every node.
    public func fetchSockets() async throws(SocketIOError) -> [SocketIORemoteSocket] {
        try await broadcast.fetchSockets()
    }

    /// Makes every socket of the namespace join `rooms`.
    public func socketsJoin(_ rooms: String...) async throws(SocketIOError) {
        try await broadcast.socketsJoin(Set(rooms))
    }

    /// Makes every socket of the namespace leave `rooms`.
    public func socketsLeave(_ rooms: String...) async throws(SocketIOError) {
        try await broadcast.socketsLeave(Set(rooms))
    }

    /// Disconnects every socket of the namespace.
    public func disconnectSockets(close: Bool = false) async throws(SocketIOError) {
        try await broadcast.disconnectSockets(close: close)
    }

    // MARK: - Server-side events (cluster)

    /// Sends `[event, ...arguments]` to this namespace on the other server nodes.
    public func serverSideEmit(_ event: String, _ arguments: JSONValue...) async throws(SocketIOError) {
        try await adapter.serverSideEmit([.string(event)] + arguments)
    }

    /// Calls `handler` with the arguments of server-side events named `event` from other nodes.
    public func onServerSideEmit(_ event: String, _ handler: @escaping @Sendable ([JSONValue]) async -> Void) {
        state.withLock { $0.serverSideHandlers[event, default: []].append(handler) }
    }

    /// Delivers a server-side event received from another node (called by cluster adapters).
    public func receiveServerSideEmit(_ data: [JSONValue]) async {
        guard let name = data.first?.stringValue else { return }
        let handlers = state.withLock { $0.serverSideHandlers[name] ?? [] }
        let arguments = Array(data.dropFirst())
        for handler in handlers { await handler(arguments) }
    }
}
