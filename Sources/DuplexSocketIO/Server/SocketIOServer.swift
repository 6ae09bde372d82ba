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
    /// Where the server's Socket.IO metrics go (`Docs/Metrics.md`).
    let metrics: SocketIOMetrics

    private let adapterFactory: AdapterFactory
    private let state = Mutex(State())

    private struct State {
        var namespaces: [String: SocketIONamespace] = [:]
        var parents: [SocketIOParentNamespace] = []
        var middlewares: [SocketIOMiddleware] = []
        var connections: [ObjectIdentifier: SocketIOEngineConnection] = [:]
        var isShuttingDown = false
        /// Tasks waiting until `connections` is empty (``recoverySnapshot(timeout:)``).
        var drainWaiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiterID: UInt64 = 0
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
        self.metrics = SocketIOMetrics(role: .server, factory: configuration.metricsFactory)
        let recovery = configuration.connectionStateRecovery
        self.adapterFactory = adapter ?? { SocketIOInMemoryAdapter(namespace: $0, recovery: recovery) }
        // The Engine.IO server reports to the same factory (Docs/Metrics.md).
        var engineConfiguration = configuration.engine
        engineConfiguration.metricsFactory = configuration.metricsFactory
        do {
            self.engine = try EngineIOServer(configuration: engineConfiguration, eventLoopGroup: eventLoopGroup, logger: logger)
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
    /// parent whose predicate matches; nil when none (CONNECT_ERROR "Invalid namespace", counted
    /// as a refusal).
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
        metrics.connectionRefused(.invalidNamespace)
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
                    let connection = SocketIOEngineConnection(engine: socket, server: self, eventLoop: socket.eventLoop)
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
                    // On the session's loop: its messages reach the reader and the handlers, and their
                    // replies the channel, without a thread hop (EventLoopTaskExecutor).
                    group.addTask(executorPreference: EventLoopTaskExecutor(socket.eventLoop)) {
                        // Returns once the sockets' jobs, persisting their sessions included,
                        // are done.
                        await connection.run()
                        let waiters = self.state.withLock { state in
                            state.connections.removeValue(forKey: key)
                            guard state.connections.isEmpty else { return [CheckedContinuation<Void, Never>]() }
                            defer { state.drainWaiters.removeAll() }
                            return Array(state.drainWaiters.values)
                        }
                        for waiter in waiters { waiter.resume() }
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

    // MARK: - Graceful restart

    /// The connection state recovery state of every namespace, to start the next server with
    /// (``SocketIOConnectionStateRecovery/restoring``) so that the clients of this one are
    /// recovered there. Empty when recovery is off or the adapter keeps no state in this
    /// process (``SocketIOAdapter/recoverySnapshot()``).
    ///
    /// Call it after ``shutdown()``: the shutdown disconnects every socket with "server
    /// shutting down", a recoverable reason, and this waits, at most `timeout`, until their
    /// sessions are persisted (each socket persists after the handlers it is running finish);
    /// sessions still being persisted then are left out. Before a shutdown it returns the
    /// sessions of the sockets that already disconnected, without waiting.
    ///
    /// Namespace parts of the snapshot this server was restored from whose namespace was never
    /// created here (a dynamic namespace nobody connected to) are carried over, minus their
    /// expired entries.
    public func recoverySnapshot(timeout: Duration = .seconds(10)) async -> SocketIORecoverySnapshot {
        let shuttingDown = state.withLock { $0.isShuttingDown }
        if shuttingDown, await !waitUntilConnectionsFinish(timeout: timeout) {
            logger.warning(
                "sessions still being persisted were left out of the recovery snapshot",
                metadata: ["timeout": "\(timeout)"]
            )
        }
        var snapshot = SocketIORecoverySnapshot(takenAt: SocketIOWallClock.now())
        guard let recovery = configuration.connectionStateRecovery else { return snapshot }
        let namespaces = state.withLock { $0.namespaces }
        for (name, namespace) in namespaces {
            if let saved = await namespace.adapter.recoverySnapshot() { snapshot.namespaces[name] = saved }
        }
        for (name, saved) in recovery.restoring?.namespaces ?? [:] where namespaces[name] == nil {
            let store = SocketIOSessionRecoveryStore(
                maxDisconnectionDuration: TimeAmount(recovery.maxDisconnectionDuration),
                offsetPrefix: "",
                restoring: saved,
                now: .now(),
                unixTime: snapshot.takenAt
            )
            snapshot.namespaces[name] = store.snapshot(now: .now(), unixTime: snapshot.takenAt)
        }
        logger.debug(
            "recovery snapshot taken",
            metadata: ["sessions": "\(snapshot.sessionCount)", "packets": "\(snapshot.packetCount)"]
        )
        return snapshot
    }

    /// Waits until every connection has finished (its sockets' sessions persisted); false
    /// after `timeout`.
    private func waitUntilConnectionsFinish(timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await self.connectionsFinished()
                return !Task.isCancelled
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let finished = await group.next() ?? false
            group.cancelAll()
            return finished
        }
    }

    private func connectionsFinished() async {
        let id = state.withLock { state in
            defer { state.nextWaiterID += 1 }
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // A cancellation before this point is seen by `Task.isCancelled`; one after finds
                // the waiter in the table.
                let finished = state.withLock { state in
                    if state.connections.isEmpty || Task.isCancelled { return true }
                    state.drainWaiters[id] = continuation
                    return false
                }
                if finished { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.drainWaiters.removeValue(forKey: id) }?.resume()
        }
    }
}
