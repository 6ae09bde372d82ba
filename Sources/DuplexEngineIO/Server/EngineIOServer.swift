import DuplexEngineIOCore
import DuplexWebSocketCore
import HTTPTypes
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// An Engine.IO v4 server (and v3 with ``EngineIOServerConfiguration/allowEIO3``), independent of
/// any HTTP framework.
///
/// It has two entry points that any server can call: ``handle(head:body:remoteAddress:)`` for
/// HTTP requests (long-polling GET/POST, CORS preflight) and ``accept(_:request:)`` for
/// WebSocket connections, with ``validateUpgrade(head:remoteAddress:)`` to run before the 101.
/// ``mount(on:path:)`` wires all three into a ``WebSocketRouter``.
///
/// The application receives each new session from ``sessions``:
///
/// ```swift
/// let engine = try EngineIOServer(logger: logger)
/// var router = WebSocketRouter()
/// engine.mount(on: &router)
/// // run a WebSocketServer with `router`, then:
/// for await socket in engine.sessions {
///     group.addTask {
///         for await message in socket.messages { try? await socket.send(message) }
///     }
/// }
/// ```
public final class EngineIOServer: Sendable {
    /// The configuration the server was created with.
    public let configuration: EngineIOServerConfiguration
    /// Every session the server opens, as soon as its handshake succeeds.
    public let sessions: EngineIOServerSessions

    let logger: Logger
    let metrics: EngineIOMetrics
    private let sessionsContinuation: AsyncStream<EngineIOSocket>.Continuation
    private let sessionConfiguration: EngineIOServerSession.Configuration
    private let eventLoopGroup: any EventLoopGroup
    private let table = Mutex<[EngineIOSessionID: ServerSession]>([:])

    /// Creates a server.
    ///
    /// - Parameters:
    ///   - configuration: protocol settings, CORS, cookie, hooks.
    ///   - eventLoopGroup: where session timers (heartbeat, upgrade timeout) run.
    ///   - logger: lifecycle events are logged at debug level with `eio.sid` metadata.
    /// - Throws: ``EngineIOError/Code/invalidConfiguration`` (see
    ///   ``EngineIOServerConfiguration/validate()``).
    public init(
        configuration: EngineIOServerConfiguration = EngineIOServerConfiguration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) throws(EngineIOError) {
        try configuration.validate()
        self.configuration = configuration
        self.sessionConfiguration = configuration.sessionConfiguration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.metrics = EngineIOMetrics(role: .server, factory: configuration.metricsFactory)
        let (stream, continuation) = AsyncStream.makeStream(of: EngineIOSocket.self)
        self.sessions = EngineIOServerSessions(stream: stream)
        self.sessionsContinuation = continuation
    }

    /// The sessions open right now.
    public var openSessions: [EngineIOSocket] {
        table.withLock { Array($0.values) }.map(EngineIOSocket.init(session:))
    }

    /// Closes every session (waiting at most ``EngineIOServerConfiguration/closeTimeout`` for
    /// polling clients to collect their `close` packet) and ends ``sessions``.
    public func shutdown() async {
        sessionsContinuation.finish()
        let open = table.withLock { Array($0.values) }
        await withDiscardingTaskGroup { group in
            for session in open {
                group.addTask {
                    session.startClosing()
                    _ = await session.waitUntilClosed()
                }
            }
        }
    }

    // MARK: - Session table

    func session(_ id: EngineIOSessionID) -> ServerSession? {
        table.withLock { $0[id] }
    }

    /// Opens a session for a successful handshake. The caller hands it to the application with
    /// ``publish(_:)`` once its transport is in place (a WebSocket must be attached first, or the
    /// application's first sends would have nowhere to go).
    func openSession(
        transport: EngineIOTransport,
        pollingFormat: EngineIOPollingFormat,
        request: EngineIOHandshakeRequest,
        eventLoop: (any EventLoop)? = nil
    ) -> ServerSession {
        var id = EngineIOSessionID.random()
        // 120 random bits make a collision practically impossible; this keeps it impossible.
        while table.withLock({ $0[id] != nil }) { id = EngineIOSessionID.random() }
        var sessionLogger = logger
        sessionLogger[metadataKey: EngineIOLoggingMetadata.sid] = "\(id)"
        let session = ServerSession(
            id: id,
            transport: transport,
            pollingFormat: pollingFormat,
            configuration: sessionConfiguration,
            flowControl: configuration.flowControl,
            request: request,
            eventLoop: eventLoop ?? eventLoopGroup.next(),
            logger: sessionLogger,
            metrics: metrics,
            onClose: { [weak self] session, _ in self?.removeSession(session) }
        )
        table.withLock { $0[id] = session }
        metrics.sessionOpened(transport: transport)
        sessionLogger.debug(
            "handshake accepted, session opened",
            metadata: [
                EngineIOLoggingMetadata.transport: "\(transport)",
                "eio.protocol": "\(request.protocolVersion)",
                "remote_address": "\(request.remoteAddress.map { "\($0)" } ?? "-")",
            ]
        )
        return session
    }

    /// Hands a new session to the application (``sessions``).
    func publish(_ session: ServerSession) {
        sessionsContinuation.yield(EngineIOSocket(session: session))
    }

    private func removeSession(_ session: ServerSession) {
        table.withLock { table in
            if table[session.id] === session { table[session.id] = nil }
        }
    }

    // MARK: - Request classification (shared by polling and WebSocket)

    /// Parses and classifies a request (protocol.md 4.1.1) after the CORS origin check.
    func classify(_ head: HTTPRequest, body: ByteBuffer?) -> Result<(EngineIORequest, EngineIORequestKind), EngineIOError> {
        do throws(EngineIOError) {
            let request = try EngineIORequest(
                method: head.method.rawValue,
                target: head.path ?? "/",
                headers: head.headerFields.map { ($0.name.rawName, $0.value) },
                body: body
            )
            guard configuration.cors.isAllowed(origin: head.headerFields[.origin]) else {
                throw EngineIOError(.forbidden, "Origin not allowed")
            }
            let kind = try request.classify(transports: configuration.transports, allowsEIO3: configuration.allowEIO3)
            return .success((request, kind))
        } catch {
            return .failure(error)
        }
    }

    /// Runs ``EngineIOServerConfiguration/allowRequest``; nil means "allowed".
    func refusal(of handshake: EngineIOHandshakeRequest) async -> (status: HTTPResponse.Status, message: String)? {
        guard let allowRequest = configuration.allowRequest else { return nil }
        switch await allowRequest(handshake).kind {
        case .allow:
            return nil
        case .refuse(let status, let message):
            // ref impl: a refused handshake is `Server.errors.FORBIDDEN`.
            metrics.failed(.forbidden)
            logger.debug(
                "handshake refused by allowRequest",
                metadata: ["status": "\(status.code)", "reason": "\(message)"]
            )
            return (status, message)
        }
    }
}
