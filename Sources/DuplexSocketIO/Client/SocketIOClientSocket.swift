import DuplexSocketIOCore
import Logging
import Synchronization

/// A client socket for one namespace (the JavaScript client's `Socket`), made by
/// ``SocketIOClientManager/socket(namespace:auth:)``.
///
/// Register handlers with ``on(_:_:)``, ``once(_:_:)``, ``onAny(_:)`` and the lifecycle
/// methods, then ``connect()``. Emits made while the socket is not connected are buffered and
/// sent in order once it connects (except volatile ones); see ``emit(_:_:options:)``.
public struct SocketIOClientSocket: Sendable, Hashable {
    /// The manager (Engine.IO connection) the socket uses.
    public let manager: SocketIOClientManager
    /// The namespace, e.g. `/` or `/admin`.
    public let namespace: String

    init(manager: SocketIOClientManager, namespace: String) {
        self.manager = manager
        self.namespace = namespace
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.manager === rhs.manager && lhs.namespace == rhs.namespace
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(manager))
        hasher.combine(namespace)
    }

    private func read<T: Sendable>(_ body: @Sendable (ClientNamespaceState) -> T) -> T? {
        manager.state.withLock { state in state.namespaces[namespace].map(body) }
    }

    /// The socket id the server gave (not the Engine.IO session id), while connected.
    public var id: String? { read(\.socketID) ?? nil }

    /// Whether the socket is connected to its namespace.
    public var isConnected: Bool { read(\.isConnected) ?? false }

    /// Whether the socket is connected or trying to (it will rejoin after a lost connection).
    public var isActive: Bool { read(\.isActive) ?? false }

    /// Whether the last connection restored the previous session (connection state recovery,
    /// protocol.md 4.2.8): the server answered with the `pid` the client sent, and replays the
    /// packets missed meanwhile.
    public var recovered: Bool { read(\.recovered) ?? false }

    /// Replaces the auth sent with the next CONNECT.
    public func setAuth(_ auth: SocketIOClientAuth) {
        manager.state.withLock { $0.namespaces[namespace]?.auth = auth }
    }

    // MARK: - Connecting

    /// Joins the namespace (opening the manager's connection if needed) and returns once the
    /// server accepted; returns at once when already connected. The socket keeps rejoining
    /// after lost connections until ``disconnect()``.
    ///
    /// - Throws: ``SocketIOError/Code/namespaceRefused`` or ``SocketIOError/Code/namespaceNotFound``
    ///   (CONNECT_ERROR; the server's payload is in ``SocketIOError/data``, its message in
    ///   ``SocketIOError/message``), ``SocketIOError/Code/connectFailed`` (the connection could
    ///   not be opened and reconnection gave up or is off; the ``EngineIOError`` is the cause),
    ///   ``SocketIOError/Code/disconnected`` (the connection ended for good before the reply),
    ///   ``SocketIOError/Code/notConnected`` (``disconnect()`` was called meanwhile),
    ///   ``SocketIOError/Code/cancelled``.
    public func connect() async throws(SocketIOError) {
        let waiterID = manager.state.withLock { $0.makeID() }
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: ClientNamespaceState.ConnectWaiter) in
                manager.mutate { state, effects in
                    guard state.namespaces[namespace] != nil else {
                        effects.append {
                            continuation.resume(returning: .failure(SocketIOError(.notConnected, "unknown namespace")))
                        }
                        return
                    }
                    if state.namespaces[namespace]?.isConnected == true {
                        effects.append { continuation.resume(returning: .success(())) }
                        return
                    }
                    state.namespaces[namespace]?.connectWaiters.append((waiterID, continuation))
                    manager.activate(namespace, in: &state)
                }
            }
        } onCancel: {
            manager.mutate { state, effects in
                guard let index = state.namespaces[namespace]?.connectWaiters.firstIndex(where: { $0.id == waiterID }),
                    let waiter = state.namespaces[namespace]?.connectWaiters.remove(at: index)
                else { return }
                effects.append {
                    waiter.continuation.resume(returning: .failure(SocketIOError(.cancelled, "connect was cancelled")))
                }
            }
        }
        try result.get()
    }

    /// Leaves the namespace: sends DISCONNECT if connected, fails outstanding acknowledgements,
    /// and calls the disconnect handlers with ``SocketIOClientDisconnectReason/ioClientDisconnect``.
    /// The manager closes its connection when no socket is left. ``connect()`` joins again.
    public func disconnect() {
        manager.mutate { state, effects in
            manager.leave(namespace, in: &state, reason: .ioClientDisconnect, sendsDisconnect: true, into: &effects)
        }
    }

    // MARK: - Handlers

    private func register(_ body: (inout ClientNamespaceState, SocketIOClientHandlerID) -> Void) -> SocketIOClientHandlerID {
        manager.state.withLock { state in
            let id = SocketIOClientHandlerID(rawValue: state.makeID())
            if var namespaceState = state.namespaces[namespace] {
                body(&namespaceState, id)
                state.namespaces[namespace] = namespaceState
            }
            return id
        }
    }

    /// Calls `handler` for every `event` received. Several handlers may listen to one event;
    /// they run in registration order.
    @discardableResult
    public func on(_ event: String, _ handler: @escaping @Sendable (SocketIOClientEvent) -> Void) -> SocketIOClientHandlerID {
        register { state, id in state.eventHandlers[event, default: .init()].add(id, isOnce: false, handler) }
    }

    /// Calls `handler` with the first argument of every `event`, decoded as `T`. Events whose
    /// first argument does not decode are skipped (logged at debug level).
    @discardableResult
    public func on<T: Decodable & Sendable>(
        _ event: String,
        as type: T.Type,
        _ handler: @escaping @Sendable (T, SocketIOClientEvent) -> Void
    ) -> SocketIOClientHandlerID {
        let logger = manager.logger
        return on(event) { received in
            do {
                handler(try received.decodeArgument(T.self), received)
            } catch {
                logger.debug("event argument does not decode", metadata: ["sio.event": "\(event)", "sio.error": "\(error)"])
            }
        }
    }

    /// Calls `handler` for the next `event` only.
    @discardableResult
    public func once(_ event: String, _ handler: @escaping @Sendable (SocketIOClientEvent) -> Void) -> SocketIOClientHandlerID {
        register { state, id in state.eventHandlers[event, default: .init()].add(id, isOnce: true, handler) }
    }

    /// Calls `handler` for every event received, before the event's own handlers (JavaScript
    /// `onAny`).
    @discardableResult
    public func onAny(_ handler: @escaping @Sendable (SocketIOClientEvent) -> Void) -> SocketIOClientHandlerID {
        register { state, id in state.anyHandlers.add(id, isOnce: false, handler) }
    }

    /// Calls `handler` for every event this socket writes to the connection (JavaScript
    /// `onAnyOutgoing`): at once when connected, at the flush for buffered emits, at each
    /// attempt for retried ones.
    @discardableResult
    public func onAnyOutgoing(_ handler: @escaping @Sendable (SocketIOClientEvent) -> Void) -> SocketIOClientHandlerID {
        register { state, id in state.anyOutgoingHandlers.add(id, isOnce: false, handler) }
    }

    /// Calls `handler` each time the socket connects to its namespace (also after reconnections).
    @discardableResult
    public func onConnect(_ handler: @escaping @Sendable () -> Void) -> SocketIOClientHandlerID {
        register { state, id in state.connectHandlers.add(id, isOnce: false) { _ in handler() } }
    }

    /// Calls `handler` each time a connected socket loses its namespace, with the reason.
    @discardableResult
    public func onDisconnect(
        _ handler: @escaping @Sendable (SocketIOClientDisconnectReason) -> Void
    ) -> SocketIOClientHandlerID {
        register { state, id in state.disconnectHandlers.add(id, isOnce: false, handler) }
    }

    /// Calls `handler` when joining fails: the server refused (CONNECT_ERROR,
    /// ``SocketIOError/Code/namespaceRefused``) or an attempt to open the connection failed
    /// (``SocketIOError/Code/connectFailed``).
    @discardableResult
    public func onConnectError(_ handler: @escaping @Sendable (SocketIOError) -> Void) -> SocketIOClientHandlerID {
        register { state, id in state.connectErrorHandlers.add(id, isOnce: false, handler) }
    }

    /// Removes the handler with `id`, whatever registered it.
    public func off(_ id: SocketIOClientHandlerID) {
        manager.state.withLock { _ = $0.namespaces[namespace]?.removeHandler(id) }
    }

    /// Removes every handler of `event`.
    public func off(event: String) {
        manager.state.withLock { $0.namespaces[namespace]?.eventHandlers[event] = nil }
    }
}
