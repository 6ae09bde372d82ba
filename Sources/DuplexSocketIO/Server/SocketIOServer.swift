import DuplexEngineIO
import DuplexSocketIOCore
import DuplexWebSocket
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A Socket.IO v5 server (and protocol v4 for Socket.IO 2.x clients with
/// ``SocketIOServerConfiguration/allowEIO3``), independent of any HTTP framework: it runs on
/// the ``EngineIOServer`` it creates.
///
/// ```swift
/// let io = try SocketIOServer(logger: logger)
/// io.sockets.onConnection { socket in
///     socket.on("chat") { event in
///         socket.broadcast.emit("chat", arguments: event.arguments)
///         event.ack("ok")
///     }
/// }
/// var router = WebSocketRouter()
/// io.mount(on: &router)
/// // run a WebSocketServer with `router`, and `io` (a Service) in the same ServiceGroup.
/// ```
///
/// ``run()`` serves the Engine.IO sessions until ``shutdown()`` (or a graceful shutdown of
/// its `ServiceGroup`): every socket is disconnected with "server shutting down", then the
/// Engine.IO server closes its sessions.
public final class SocketIOServer: Service, Sendable {
    /// A factory of adapters, one per namespace.
    public typealias AdapterFactory = @Sendable (SocketIONamespace) -> any SocketIOAdapter

    /// The configuration.
    public let configuration: SocketIOServerConfiguration
    /// The Engine.IO server underneath.
    public let engine: EngineIOServer
    /// The logger (debug level, with `eio.sid`, `sio.sid`, `sio.nsp` metadata; never auth).
    public let logger: Logger
    let eventLoopGroup: any EventLoopGroup

    private let adapterFactory: AdapterFactory
    private let state = Mutex(State())

    private struct State {
        var namespaces: [String: SocketIONamespace] = [:]
        var parents: [SocketIOParentNamespace] = []
        var middlewares: [SocketIOMiddleware] = []
        var connections: [ObjectIdentifier: SocketIOEngineConnection] = [:]
        var isShuttingDown = false
    }

    /// Creates a server with its Engine.IO server and the default namespace `/`.
    ///
    /// - Parameters:
    ///   - adapter: creates each namespace's adapter; default ``SocketIOInMemoryAdapter``.
    /// - Throws: ``SocketIOError/Code/invalidConfiguration``.
    public init(
        configuration: SocketIOServerConfiguration = SocketIOServerConfiguration(),
        adapter: AdapterFactory? = nil,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) throws(SocketIOError) {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
        let recovery = configuration.connectionStateRecovery
        self.adapterFactory = adapter ?? { SocketIOInMemoryAdapter(namespace: $0, recovery: recovery) }
        do {
            self.engine = try EngineIOServer(configuration: configuration.engine, eventLoopGroup: eventLoopGroup, logger: logger)
        } catch {
            throw SocketIOError(.invalidConfiguration, "invalid Engine.IO configuration: \(error.message)", cause: error)
        }
        _ = namespace("/")
    }

    /// Serves Socket.IO at `path` (default `/socket.io/`) on a ``WebSocketRouter``.
    public func mount(on router: inout WebSocketRouter, path: String = "/socket.io/") {
        engine.mount(on: &router, path: path)
    }

    // MARK: - Namespaces

    /// The default namespace `/`.
    public var sockets: SocketIONamespace { namespace("/") }

    /// The namespace `name` (created if needed; a name without a leading `/` gets one, and a
    /// `,`, which cannot travel in a packet header, is removed).
    public func namespace(_ name: String) -> SocketIONamespace {
        var name = name.hasPrefix("/") ? name : "/" + name
        if !SocketIOPacket.isValidNamespace(name) { name.removeAll { $0 == "," } }
        if let existing = state.withLock({ $0.namespaces[name] }) { return existing }
        let created = SocketIONamespace(name: name, server: self, parent: nil, makeAdapter: adapterFactory)
        return state.withLock { state in
            if let existing = state.namespaces[name] { return existing }
            state.namespaces[name] = created
            return created
        }
    }

    /// Dynamic namespaces: a connection to an unknown name for which `predicate` returns true
    /// creates that namespace as a child of the returned parent.
    public func namespace(matching predicate: @escaping SocketIOParentNamespace.Predicate) -> SocketIOParentNamespace {
        let parent = SocketIOParentNamespace(predicate: predicate)
        state.withLock { $0.parents.append(parent) }
        return parent
    }

    /// Dynamic namespaces whose whole name matches the regular expression `pattern`.
    ///
    /// - Throws: ``SocketIOError/Code/invalidConfiguration`` for an invalid pattern.
    public func namespace(matchingPattern pattern: String) throws(SocketIOError) -> SocketIOParentNamespace {
        do {
            _ = try Regex(pattern)
        } catch {
            throw SocketIOError(.invalidConfiguration, "invalid namespace pattern: \(pattern)", cause: error)
        }
        // `Regex` is not Sendable: each check compiles the (already validated) pattern again.
        // It only runs for connections to namespaces that do not exist yet.
        return namespace(matching: { name, _ in
            guard let regex = try? Regex(pattern) else { return false }
            return (try? regex.wholeMatch(in: name)) != nil
        })
    }

    /// Adds a connection middleware run for every namespace, before the namespace's own.
    public func use(_ middleware: @escaping SocketIOMiddleware) {
        state.withLock { $0.middlewares.append(middleware) }
    }

    /// The namespaces that exist now (static ones and the dynamic children created so far).
    public var namespaces: [SocketIONamespace] { state.withLock { Array($0.namespaces.values) } }

    func middlewares(for namespace: SocketIONamespace) -> [SocketIOMiddleware] {
        state.withLock { $0.middlewares } + namespace.middlewares
    }

    /// The namespace a CONNECT to `name` joins: an existing one, or a new child of the first
    /// parent whose predicate matches; nil when none (CONNECT_ERROR "Invalid namespace").
    func namespaceForConnection(_ name: String, auth: JSONValue?) async -> SocketIONamespace? {
        let (existing, parents) = state.withLock { ($0.namespaces[name], $0.parents) }
        if let existing { return existing }
        for parent in parents where await parent.predicate(name, auth) {
            let child = SocketIONamespace(name: name, server: self, parent: parent, makeAdapter: adapterFactory)
            let (namespace, created): (SocketIONamespace, Bool) = state.withLock { state in
                if let existing = state.namespaces[name] { return (existing, false) }
                state.namespaces[name] = child
                return (child, true)
            }
            if created { parent.addChild(child) }
            return namespace
        }
        return nil
    }

    // MARK: - Convenience on `/`

    /// Calls `handler` with every socket that connects to `/` (socket.io `io.on("connection")`).
    public func onConnection(_ handler: @escaping @Sendable (SocketIOSocket) async -> Void) {
        sockets.onConnection(handler)
    }

    /// A broadcast to the sockets of `/` in `rooms`.
    public func to(_ rooms: String...) -> SocketIOBroadcastOperator { sockets.broadcast.to(Set(rooms)) }

    /// Sends an event to every socket of `/`.
    public func emit(_ event: String, _ arguments: JSONValue...) {
        sockets.broadcast.emit(event, arguments: arguments)
    }

    // MARK: - Running

    /// Serves every Engine.IO session until ``shutdown()``; on a graceful shutdown of its
    /// `ServiceGroup`, shuts down.
    public func run() async {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await socket in engine.sessions {
                    let connection = SocketIOEngineConnection(engine: socket, server: self, eventLoop: eventLoopGroup.next())
                    let key = ObjectIdentifier(connection)
                    let accepted = state.withLock { state in
                        guard !state.isShuttingDown else { return false }
                        state.connections[key] = connection
                        return true
                    }
                    guard accepted else {
                        socket.startClosing()
                        continue
                    }
                    group.addTask {
                        await connection.run()
                        _ = self.state.withLock { $0.connections.removeValue(forKey: key) }
                    }
                }
            }
        } onGracefulShutdown: {
            Task { await self.shutdown() }
        }
    }

    /// Disconnects every socket with "server shutting down", then closes the Engine.IO server
    /// (its sessions get a `close` packet) and the adapters.
    public func shutdown() async {
        let (connections, namespaces) = state.withLock { state in
            state.isShuttingDown = true
            return (Array(state.connections.values), Array(state.namespaces.values))
        }
        logger.debug("shutting down", metadata: ["sessions": "\(connections.count)"])
        for connection in connections {
            connection.close(reason: .serverShuttingDown, closeEngine: false)
        }
        await engine.shutdown()
        for namespace in namespaces { await namespace.adapter.close() }
    }
}
