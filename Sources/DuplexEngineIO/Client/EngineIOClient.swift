import DuplexEngineIOCore
import DuplexWebSocket
import DuplexWebSocketCore
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The Engine.IO v4 client: opens a session over HTTP long-polling (upgrading to WebSocket
/// when the server offers it) or over WebSocket only, and runs your code with it.
///
/// ```swift
/// try await EngineIOClient.connect(to: "http://localhost:5000/engine.io/") { socket in
///     try await socket.send(text: "hello")
///     for try await message in socket.messages { print(message) }
/// }
/// ```
///
/// If an upgrade fails (the WebSocket request is refused, the probe is not answered in time,
/// the probe WebSocket closes), the session stays on polling and keeps working: no message is
/// lost, duplicated or reordered (DESIGN.md, "What users were bitten by" 2); the reason is
/// logged at debug level.
public enum EngineIOClient {
    /// Opens a session and runs `body` with it; the session is closed (protocol.md 4.1.8) when
    /// `body` returns or throws.
    ///
    /// Errors from the library are always ``EngineIOError``: opening fails with
    /// ``EngineIOError/Code/connectionFailed`` (refused, DNS, TLS, timeout; the underlying
    /// error is the cause), ``EngineIOError/Code/handshakeRejected`` (a non-200 polling answer
    /// or a non-101 WebSocket answer, with ``EngineIOError/response`` and, for WebSocket, the
    /// `WebSocketError` as cause), ``EngineIOError/Code/invalidPacket`` or
    /// ``EngineIOError/Code/invalidPayload`` (not an Engine.IO v4 handshake),
    /// ``EngineIOError/Code/invalidConfiguration`` (bad URL or configuration) or
    /// ``EngineIOError/Code/cancelled``. Errors thrown by `body` are rethrown unchanged.
    ///
    /// - Parameters:
    ///   - url: the Engine.IO endpoint, `http(s)://host[:port]/path/` (`ws(s)://` works too);
    ///     a URL without a path means `/engine.io/`.
    public static func connect<Result: Sendable>(
        to url: String,
        configuration: EngineIOClientConfiguration = EngineIOClientConfiguration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "duplex.engineio.client", factory: { _ in SwiftLogNoOpLogHandler() }),
        _ body: (EngineIOClientSocket) async throws -> Result
    ) async throws -> Result {
        let metrics = EngineIOMetrics(role: .client, factory: configuration.metricsFactory)
        return try await connect(
            to: url,
            configuration: configuration,
            eventLoopGroup: eventLoopGroup,
            logger: logger,
            metrics: metrics,
            body
        )
    }

    /// ``connect(to:configuration:eventLoopGroup:logger:_:)`` recording into `metrics`, which
    /// ``connectReconnecting(to:configuration:eventLoopGroup:logger:_:)`` creates once.
    private static func connect<Result: Sendable>(
        to url: String,
        configuration: EngineIOClientConfiguration,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger,
        metrics: EngineIOMetrics,
        _ body: (EngineIOClientSocket) async throws -> Result
    ) async throws -> Result {
        try configuration.validate()
        let endpoint = try ClientEndpoint(url, query: configuration.query)
        let sslContext: NIOSSLContext?
        do {
            sslContext = endpoint.isSecure ? try NIOSSLContext(configuration: configuration.webSocket.tls) : nil
        } catch {
            throw EngineIOError(.invalidConfiguration, "invalid TLS configuration", cause: error)
        }
        var headers = HTTPHeaders()
        for field in configuration.headers { headers.add(name: field.name.rawName, value: field.value) }
        func makeConnection() -> ClientPollingConnection {
            ClientPollingConnection(
                endpoint: endpoint,
                headers: headers,
                eventLoopGroup: eventLoopGroup,
                sslContext: sslContext,
                maxBodySize: configuration.maxResponseBodySize
            )
        }
        let (events, eventsContinuation) = AsyncStream.makeStream(of: ClientDriverEvent.self)
        let state = ClientSocketState(transport: configuration.sessionConfiguration.transports.first ?? .polling)
        let producer = EngineIOClientMessages.Producer.makeSequence(
            backPressureStrategy: .init(lowWatermark: 64, highWatermark: 256),
            finishOnDeinit: false,
            delegate: ClientMessagesDelegate(events: eventsContinuation)
        )
        let context = ClientSessionDriver.Context(
            endpoint: endpoint,
            configuration: configuration,
            eventLoopGroup: eventLoopGroup,
            logger: logger,
            metrics: metrics,
            pollConnection: makeConnection(),
            postConnection: makeConnection(),
            state: state,
            source: producer.source,
            events: events,
            eventsContinuation: eventsContinuation,
            opened: ClientOneShot(),
            finished: ClientOneShot()
        )
        let messages = EngineIOClientMessages(producer: producer.sequence, state: state)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await ClientSessionDriver(context: context).run() }
            let handshake: EngineIOHandshake
            switch await context.opened.value {
            case .success(let opened):
                handshake = opened
            case .failure(let error):
                try await group.waitForAll()
                throw error
            }
            let socket = EngineIOClientSocket(
                handshake: handshake,
                messages: messages,
                state: state,
                events: eventsContinuation,
                finished: context.finished
            )
            do {
                let result = try await body(socket)
                await socket.close()
                return result
            } catch {
                await socket.close()
                throw error
            }
        }
    }

    /// Opens a session, runs `body`, and opens a new session with backoff
    /// (``EngineIOClientConfiguration/reconnectPolicy``) whenever opening fails or the session
    /// ends with a retryable error (``EngineIOError/isRetryable``: refused, timeouts, 5xx, ping
    /// timeout, transport failures). Returns when `body` returns; throws non-retryable errors,
    /// errors thrown by `body` that are not ``EngineIOError``, and the last error once
    /// ``ReconnectPolicy/maxAttempts`` is reached.
    public static func connectReconnecting(
        to url: String,
        configuration: EngineIOClientConfiguration = EngineIOClientConfiguration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "duplex.engineio.client", factory: { _ in SwiftLogNoOpLogHandler() }),
        _ body: (EngineIOClientSocket) async throws -> Void
    ) async throws {
        let policy = configuration.reconnectPolicy
        let metrics = EngineIOMetrics(role: .client, factory: configuration.metricsFactory)
        var failures = 0
        while true {
            do {
                try await connect(to: url, configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger, metrics: metrics) {
                    socket in
                    failures = 0
                    try await body(socket)
                }
                return
            } catch let error as EngineIOError where error.isRetryable {
                failures += 1
                if let maxAttempts = policy.maxAttempts, failures >= maxAttempts { throw error }
                let delay = policy.delay(attempt: failures - 1)
                logger.debug("reconnecting", metadata: ["eio.error": "\(error.code)", "eio.delay": "\(delay)"])
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    throw EngineIOError(.cancelled, "cancelled while waiting to reconnect", cause: error)
                }
            }
        }
    }
}
