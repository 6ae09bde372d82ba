import DuplexEngineIO
import DuplexSocketIOCore
import Logging
import NIOCore
import NIOPosix

/// A small client for scripts and tools, like python-socketio's `SimpleClient`: connect to one
/// namespace, then `emit`, `call` (emit and wait for the acknowledgement) and `receive` (the
/// next event) in straight-line code.
///
/// ```swift
/// let client = try await SocketIOSimpleClient.connect(to: "http://localhost:3000/chat")
/// try client.emit("join", ["room-1"])
/// let reply = try await client.call("ping", [], timeout: .seconds(5))
/// if let event = try await client.receive(timeout: .seconds(10)) { print(event.name, event.arguments) }
/// await client.disconnect()
/// ```
///
/// Events are queued from the moment the namespace is joined, so none is missed between calls.
/// The connection reconnects as ``SocketIOClientConfiguration`` says; an incoming event's
/// acknowledgement is the caller's to send (``SocketIOClientEvent/acknowledge(_:)``).
public final class SocketIOSimpleClient: Sendable {
    /// The namespace socket underneath, for everything this class does not cover.
    public let socket: SocketIOClientSocket
    private let inbox: ClientEventInbox

    private init(socket: SocketIOClientSocket, inbox: ClientEventInbox) {
        self.socket = socket
        self.inbox = inbox
    }

    /// Connects to `url` and joins the namespace in its path (or `namespace` when given).
    ///
    /// - Throws: ``SocketIOError/Code/invalidConfiguration``, and the errors of
    ///   ``SocketIOClientSocket/connect()`` (``SocketIOError/Code/connectFailed``,
    ///   ``SocketIOError/Code/namespaceRefused`` …).
    public static func connect(
        to url: String,
        namespace: String? = nil,
        auth: SocketIOClientAuth = .none,
        configuration: SocketIOClientConfiguration = SocketIOClientConfiguration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "duplex.socketio.client", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws(SocketIOError) -> SocketIOSimpleClient {
        let manager = try SocketIOClientManager(
            url: url,
            configuration: configuration,
            eventLoopGroup: eventLoopGroup,
            logger: logger
        )
        let socket = try manager.socket(namespace: namespace ?? manager.url.namespace, auth: auth)
        let inbox = ClientEventInbox()
        socket.onAny { inbox.push($0) }
        socket.onDisconnect { reason in
            if !reason.allowsReconnection || !configuration.reconnection {
                inbox.finish(SocketIOError(.disconnected, "disconnected (\(reason))"))
            }
        }
        manager.onEvent { event in
            if case .reconnectFailed = event {
                inbox.finish(SocketIOError(.disconnected, "reconnection failed"))
            }
        }
        do {
            try await socket.connect()
        } catch {
            await manager.close()
            throw error
        }
        return SocketIOSimpleClient(socket: socket, inbox: inbox)
    }

    /// The socket id while connected.
    public var id: String? { socket.id }

    /// The Engine.IO transport while connected.
    public var transport: EngineIOTransport? { socket.manager.transport }

    /// Whether the namespace is connected.
    public var isConnected: Bool { socket.isConnected }

    /// Emits `event` with `arguments`; buffered while reconnecting.
    ///
    /// - Throws: ``SocketIOError/Code/notConnected`` after ``disconnect()`` or a final
    ///   disconnection, and the errors of ``SocketIOClientSocket/emit(_:_:options:)``.
    public func emit(_ event: String, _ arguments: [JSONValue] = []) throws(SocketIOError) {
        guard socket.isActive else { throw SocketIOError(.notConnected, "the client is disconnected") }
        try socket.emit(event, arguments)
    }

    /// Emits `event` and returns the arguments of the acknowledgement.
    ///
    /// - Throws: ``SocketIOError/Code/ackTimedOut`` after `timeout` (default 60 s, as
    ///   python-socketio), ``SocketIOError/Code/notConnected``, ``SocketIOError/Code/disconnected``.
    public func call(_ event: String, _ arguments: [JSONValue] = [], timeout: Duration = .seconds(60)) async throws(SocketIOError)
        -> [JSONValue]
    {
        guard socket.isActive else { throw SocketIOError(.notConnected, "the client is disconnected") }
        return try await socket.emitWithAck(event, arguments, timeout: timeout)
    }

    /// The next event received, in order; nil when `timeout` passes first (nil waits forever).
    ///
    /// - Throws: ``SocketIOError/Code/disconnected`` once the client is disconnected for good
    ///   and every received event has been returned; ``SocketIOError/Code/cancelled``.
    public func receive(timeout: Duration? = nil) async throws(SocketIOError) -> SocketIOClientEvent? {
        try await inbox.next(timeout: timeout)
    }

    /// Disconnects and closes the connection.
    public func disconnect() async {
        await socket.manager.close()
        inbox.finish(SocketIOError(.disconnected, "the client disconnected"))
    }
}
