import DuplexSocketIOCore
import Synchronization

/// A family of dynamic namespaces matched by a predicate (socket.io parent namespaces): the
/// first connection to a matching name creates the child namespace, which then inherits this
/// parent's middlewares and connection handlers.
public final class SocketIOParentNamespace: Sendable {
    /// Decides whether a namespace name (with the CONNECT payload) belongs to this parent.
    public typealias Predicate = @Sendable (_ name: String, _ auth: JSONValue?) async -> Bool

    let predicate: Predicate
    private let state = Mutex(State())

    private struct State {
        var middlewares: [SocketIOMiddleware] = []
        var connectionHandlers: [@Sendable (SocketIOSocket) async -> Void] = []
        var children: [SocketIONamespace] = []
    }

    init(predicate: @escaping Predicate) {
        self.predicate = predicate
    }

    /// Adds a connection middleware for every child namespace (run before the child's own).
    public func use(_ middleware: @escaping SocketIOMiddleware) {
        state.withLock { $0.middlewares.append(middleware) }
    }

    /// Calls `handler` with every socket connecting to any child namespace.
    public func onConnection(_ handler: @escaping @Sendable (SocketIOSocket) async -> Void) {
        state.withLock { $0.connectionHandlers.append(handler) }
    }

    /// The child namespaces created so far.
    public var children: [SocketIONamespace] { state.withLock { $0.children } }

    /// Sends an event to every socket of every child namespace.
    public func emit(_ event: String, _ arguments: JSONValue...) {
        for child in children { child.broadcast.emit(event, arguments: arguments) }
    }

    var middlewares: [SocketIOMiddleware] { state.withLock { $0.middlewares } }
    var connectionHandlers: [@Sendable (SocketIOSocket) async -> Void] { state.withLock { $0.connectionHandlers } }

    func addChild(_ namespace: SocketIONamespace) {
        state.withLock { $0.children.append(namespace) }
    }
}
