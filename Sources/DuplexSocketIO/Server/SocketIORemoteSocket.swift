import DuplexSocketIOCore

/// A socket of a namespace as ``SocketIONamespace/fetchSockets()`` returns it, on this server
/// or another node: a snapshot of its id, handshake, rooms and data, and operations that go
/// through the adapter (socket.io `RemoteSocket`).
public struct SocketIORemoteSocket: Sendable, Identifiable {
    /// The socket id.
    public let id: String
    /// The handshake.
    public let handshake: SocketIOHandshake
    /// The rooms, when fetched.
    public let rooms: Set<String>
    /// The application data, when fetched.
    public let data: JSONValue
    /// The namespace.
    public let namespace: SocketIONamespace

    /// Creates a snapshot (adapters create them for sockets of other nodes).
    public init(id: String, handshake: SocketIOHandshake, rooms: Set<String>, data: JSONValue, namespace: SocketIONamespace) {
        self.id = id
        self.handshake = handshake
        self.rooms = rooms
        self.data = data
        self.namespace = namespace
    }

    init(_ socket: SocketIOSocket) {
        self.init(id: socket.id, handshake: socket.handshake, rooms: socket.rooms, data: socket.data, namespace: socket.namespace)
    }

    /// Sends an event to the socket.
    public func emit(_ event: String, _ arguments: JSONValue...) {
        namespace.broadcast.to([id]).emit(event, arguments: arguments)
    }

    /// Makes the socket join `rooms`.
    public func join(_ rooms: String...) async throws(SocketIOError) {
        try await namespace.broadcast.to([id]).socketsJoin(Set(rooms))
    }

    /// Makes the socket leave `rooms`.
    public func leave(_ rooms: String...) async throws(SocketIOError) {
        try await namespace.broadcast.to([id]).socketsLeave(Set(rooms))
    }

    /// Disconnects the socket.
    public func disconnect(close: Bool = false) async throws(SocketIOError) {
        try await namespace.broadcast.to([id]).disconnectSockets(close: close)
    }
}
