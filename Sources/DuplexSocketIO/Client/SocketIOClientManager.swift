import DuplexEngineIO
import DuplexSocketIOCore
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A Socket.IO v5 client connection: one Engine.IO session to a server, multiplexing the
/// namespace sockets made with ``socket(namespace:auth:)`` (the JavaScript client's `Manager`).
///
/// ```swift
/// let manager = try SocketIOClientManager(url: "http://localhost:3000")
/// let socket = try manager.socket(namespace: "/chat", auth: .value(["token": "…"]))
/// socket.on("message") { event in print(event.arguments) }
/// try await socket.connect()
/// try socket.emit("message", ["hello"])
/// let reply = try await socket.emitWithAck("ping", [], timeout: .seconds(5))
/// await manager.close()
/// ```
///
/// The manager opens the Engine.IO session when the first socket connects and closes it when
/// no socket wants a connection. When the connection is lost it reconnects with exponential
/// backoff and jitter (``SocketIOClientConfiguration/reconnection``) and every socket that was
/// connected or connecting rejoins its namespace, sending its auth again (plus the connection
/// state recovery `pid`/`offset` when the server provided them). A connection that the server
/// or the application ended on purpose is not reconnected (``SocketIOClientDisconnectReason``).
///
/// Handlers run one at a time, in the order packets arrive, on the task that reads the
/// connection: keep them short and start a task for long work. They never run while the
/// manager's lock is held, so they may emit, acknowledge, connect or disconnect.
///
/// The manager keeps a background task while a session is wanted; call ``close()`` (or
/// disconnect every socket) to end it.
public final class SocketIOClientManager: Sendable {
    /// The configuration the manager was created with.
    public let configuration: SocketIOClientConfiguration
    let url: SocketIOClientURL
    let engineIOURL: String
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    let encoder = SocketIOPacketEncoder(protocolVersion: .v5)
    /// Where the manager's Socket.IO metrics go (`Docs/Metrics.md`).
    let metrics: SocketIOMetrics
    let state = Mutex(ClientManagerState())

    /// Creates a manager for the server at `url` (`http(s)://host[:port]`; a path in the URL is
    /// ignored here, see ``socket(url:configuration:auth:eventLoopGroup:logger:)``; the query
    /// goes to every Engine.IO request). Nothing connects until a socket does.
    ///
    /// - Throws: ``SocketIOError/Code/invalidConfiguration`` for a bad URL or configuration.
    public init(
        url: String,
        configuration: SocketIOClientConfiguration = SocketIOClientConfiguration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "duplex.socketio.client", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(SocketIOError) {
        try configuration.validate()
        self.configuration = configuration
        self.url = try SocketIOClientURL(url)
        self.engineIOURL = self.url.engineIOURL(path: configuration.path)
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.metrics = SocketIOMetrics(role: .client, factory: configuration.metricsFactory)
    }

    /// Like the JavaScript `io(url)`: a new manager for `url`'s origin and a socket for the
    /// namespace in its path (`http://host/admin` → `/admin`; `/` when there is no path).
    ///
    /// - Throws: ``SocketIOError/Code/invalidConfiguration``.
    public static func socket(
        url: String,
        configuration: SocketIOClientConfiguration = SocketIOClientConfiguration(),
        auth: SocketIOClientAuth = .none,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "duplex.socketio.client", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(SocketIOError) -> SocketIOClientSocket {
        let manager = try SocketIOClientManager(
            url: url,
            configuration: configuration,
            eventLoopGroup: eventLoopGroup,
            logger: logger
        )
        return try manager.socket(namespace: manager.url.namespace, auth: auth)
    }

    /// The socket for `namespace` (one per namespace and manager: asking again returns the same
    /// socket, with `auth` replacing its auth unless it is ``SocketIOClientAuth/none``). It is
    /// not connected: call ``SocketIOClientSocket/connect()``.
    ///
    /// - Throws: ``SocketIOError/Code/invalidConfiguration`` when `namespace` does not start
    ///   with `/` or contains `,`.
    public func socket(namespace: String = "/", auth: SocketIOClientAuth = .none) throws(SocketIOError)
        -> SocketIOClientSocket
    {
        guard SocketIOPacket.isValidNamespace(namespace) else {
            throw SocketIOError(.invalidConfiguration, "invalid namespace \"\(namespace.prefix(100))\"")
        }
        state.withLock { state in
            if state.namespaces[namespace] == nil { state.namespaces[namespace] = ClientNamespaceState() }
            if case .none = auth {} else { state.namespaces[namespace]?.auth = auth }
        }
        return SocketIOClientSocket(manager: self, namespace: namespace)
    }

    /// The id of the current Engine.IO session, if one is open.
    public var engineSessionID: String? { state.withLock { $0.session?.engineSessionID } }

    /// The transport of the current Engine.IO session, if one is open.
    public var transport: EngineIOTransport? { state.withLock { $0.session?.transport } }

    /// Whether an Engine.IO session is open.
    public var isOpen: Bool { state.withLock { $0.session != nil } }

    /// Registers a handler for the connection's events (open, transport change, close,
    /// reconnection attempts).
    @discardableResult
    public func onEvent(_ handler: @escaping @Sendable (SocketIOClientManagerEvent) -> Void) -> SocketIOClientHandlerID {
        state.withLock { state in
            let id = SocketIOClientHandlerID(rawValue: state.makeID())
            state.managerHandlers.add(id, isOnce: false, handler)
            return id
        }
    }

    /// Removes a handler registered with ``onEvent(_:)``.
    public func off(_ id: SocketIOClientHandlerID) {
        state.withLock { _ = $0.managerHandlers.remove(id) }
    }

    /// Disconnects every socket (each gets ``SocketIOClientDisconnectReason/ioClientDisconnect``
    /// and its outstanding acknowledgements fail), closes the Engine.IO session after the
    /// DISCONNECT packets, stops reconnecting, and returns when the connection is over. Sockets
    /// can connect again afterwards. Do not await it from a handler (handlers run on the task
    /// that reads the connection, which this waits for); disconnect the sockets there instead.
    public func close() async {
        let task = mutate { state, effects in
            for namespace in state.namespaces.keys {
                leave(namespace, in: &state, reason: .ioClientDisconnect, sendsDisconnect: true, into: &effects)
                state.namespaces[namespace]?.abandonOutstanding(
                    SocketIOError(.disconnected, "the manager was closed"),
                    dropsBuffer: true,
                    into: &effects
                )
            }
            state.closeSession(reason: .ioClientDisconnect)
            if state.loopStage == .opening { state.loopTask?.cancel() }
            return state.loopTask
        }
        await task?.value
    }

    // MARK: - Internals shared by the extensions

    /// Runs `body` under the lock, then the effects it decided.
    func mutate<Result>(_ body: (inout ClientManagerState, inout ClientEffects) -> Result) -> Result {
        let (result, effects) = state.withLock { state in
            var effects = ClientEffects()
            let result = body(&state, &effects)
            return (result, effects)
        }
        effects.run()
        return result
    }

    /// Schedules the manager handlers for `event`.
    func emitManagerEvent(_ event: SocketIOClientManagerEvent, in state: inout ClientManagerState, into effects: inout ClientEffects) {
        effects.call(state.managerHandlers.take(), with: event)
    }

    /// Marks `namespace` as wanted and makes sure a session is (being) opened; when a session is
    /// open, asks its connector to send CONNECT.
    func activate(_ namespace: String, in state: inout ClientManagerState) {
        guard var namespaceState = state.namespaces[namespace] else { return }
        if namespaceState.phase == .idle { namespaceState.phase = .connecting(requestedIn: nil) }
        if case .connecting(let requestedIn) = namespaceState.phase, let session = state.session,
            requestedIn != session.generation, session.closeReason == nil
        {
            namespaceState.phase = .connecting(requestedIn: session.generation)
            session.connectRequests.yield(namespace)
        }
        state.namespaces[namespace] = namespaceState
        startLoopIfNeeded(in: &state)
    }

    /// Takes `namespace` out of the session on purpose (either side): it becomes idle, its
    /// handlers hear `reason` if it was connected, and waiting connects fail. Closes the session
    /// when no namespace is left.
    func leave(
        _ namespace: String,
        in state: inout ClientManagerState,
        reason: SocketIOClientDisconnectReason,
        sendsDisconnect: Bool,
        into effects: inout ClientEffects
    ) {
        guard var namespaceState = state.namespaces[namespace], namespaceState.isActive else { return }
        let wasConnected = namespaceState.isConnected
        // socket.io-protocol v5, "DISCONNECT": the client leaves one namespace; no reply.
        if wasConnected && sendsDisconnect { _ = state.write(.disconnect(namespace: namespace), encoder: encoder) }
        namespaceState.phase = .idle
        namespaceState.resolveConnectWaiters(
            .failure(SocketIOError(.notConnected, "the namespace was disconnected (\(reason)) before it connected")),
            into: &effects
        )
        namespaceState.abandonOutstanding(
            SocketIOError(.disconnected, "the namespace was disconnected (\(reason))"),
            dropsBuffer: false,
            into: &effects
        )
        if wasConnected {
            metrics.disconnected(reason)
            effects.call(namespaceState.disconnectHandlers.take(), with: reason)
        }
        state.namespaces[namespace] = namespaceState
        logger.debug("namespace left", metadata: ["sio.namespace": "\(namespace)", "sio.reason": "\(reason)"])
        if !state.wantsSession { state.closeSession(reason: reason) }
    }
}
