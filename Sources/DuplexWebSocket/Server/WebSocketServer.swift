import DuplexWebSocketCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization

/// A standalone WebSocket (and plain HTTP) server on SwiftNIO.
///
/// Run it with ``run()`` (it is a `ServiceLifecycle.Service`: graceful shutdown stops accepting,
/// closes every WebSocket with 1001, waits up to ``WebSocketServerConfiguration/shutdownGracePeriod``
/// and then drops what is left). Each accepted connection runs its route's handler in a child
/// task; the connection is closed with 1000 when the handler returns, and with 1011 if it throws.
public final class WebSocketServer: Service, Sendable {
    /// The configuration the server was created with.
    public let configuration: WebSocketServerConfiguration
    private let router: WebSocketRouter
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let metrics: WebSocketMetrics
    private let registry = ConnectionRegistry()
    private let listening = Mutex<ListeningState>(.notStarted([]))
    private let shutdownRequested = Atomic<Bool>(false)

    private enum ListeningState {
        case notStarted([CheckedContinuation<SocketAddress, any Error>])
        case listening(SocketAddress, any Channel)
        case stopped
    }

    /// Creates a server. It does nothing until ``run()``.
    public init(
        configuration: WebSocketServerConfiguration = WebSocketServerConfiguration(),
        router: WebSocketRouter,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) {
        self.configuration = configuration
        self.router = router
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.metrics = WebSocketMetrics(role: .server, factory: configuration.metricsFactory)
    }

    /// Waits until the server listens and returns its address (useful with port 0).
    public func waitUntilListening() async throws -> SocketAddress {
        try await withCheckedThrowingContinuation { continuation in
            let result: Result<SocketAddress, any Error>? = listening.withLock { state in
                switch state {
                case .notStarted(var waiters):
                    waiters.append(continuation)
                    state = .notStarted(waiters)
                    return nil
                case .listening(let address, _):
                    return .success(address)
                case .stopped:
                    return .failure(WebSocketError(.connectionClosed, "the server is not running"))
                }
            }
            if let result { continuation.resume(with: result) }
        }
    }

    /// The WebSocket connections open right now (for broadcasting).
    public var connections: [WebSocketConnection] { registry.connections }

    /// Binds, accepts connections and serves them until shut down.
    public func run() async throws {
        let (stream, continuation) = AsyncStream<AcceptedConnection>.makeStream()
        streamContinuation.withLock { $0 = continuation }
        let context = HTTPConnectionHandler.Context(
            configuration: configuration,
            router: router,
            logger: logger,
            metrics: metrics,
            accepted: { continuation.yield($0) },
            upgradedOnLoop: { [registry] channel in registry.markUpgraded(channel) }
        )
        let sslContext: NIOSSLContext?
        do {
            sslContext = try configuration.tls.map { try NIOSSLContext(configuration: $0) }
        } catch {
            throw WebSocketError(.invalidConfiguration, "invalid TLS configuration", cause: error)
        }
        let registry = self.registry
        let serverChannel: any Channel
        do {
            serverChannel = try await ServerBootstrap(group: eventLoopGroup)
                .serverChannelOption(.backlog, value: configuration.backlog)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        registry.track(channel)
                        try Self.configurePipeline(channel, context: context, sslContext: sslContext)
                    }
                }
                .bind(host: configuration.host, port: configuration.port)
                .get()
        } catch {
            let failure = WebSocketError(.connectionFailed, "could not bind \(configuration.host):\(configuration.port)", cause: error)
            resumeWaiters(with: .failure(failure), finalState: .stopped)
            throw failure
        }
        guard let address = serverChannel.localAddress else {
            throw WebSocketError(.internalError, "the server socket has no local address")
        }
        resumeWaiters(with: .success(address), finalState: .listening(address, serverChannel))
        logger.debug("listening", metadata: ["address": "\(address)"])

        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await accepted in stream {
                    // The connection's task runs on its channel's event loop (EventLoopTaskExecutor).
                    let executor = EventLoopTaskExecutor(accepted.asyncChannel.channel.eventLoop)
                    group.addTask(executorPreference: executor) { await self.serve(accepted) }
                }
            }
        } onGracefulShutdown: {
            self.shutdown()
        }
        if !shutdownRequested.load(ordering: .relaxed) {
            // The task was cancelled rather than shut down gracefully.
            try? await serverChannel.close()
        }
        listening.withLock { $0 = .stopped }
    }

    /// Starts a graceful shutdown (also triggered by ServiceLifecycle): stop accepting, close
    /// every WebSocket with 1001, and drop what is still open after the grace period.
    public func shutdown() {
        guard !shutdownRequested.exchange(true, ordering: .relaxed) else { return }
        let serverChannel: (any Channel)? = listening.withLock {
            if case .listening(_, let channel) = $0 { return channel }
            return nil
        }
        logger.debug("shutting down", metadata: ["connections": "\(registry.count)"])
        let registry = self.registry
        let grace = configuration.shutdownGracePeriod
        let eventLoop = eventLoopGroup.any()
        let closed = serverChannel?.close() ?? eventLoop.makeSucceededVoidFuture()
        closed.whenComplete { _ in
            // RFC 6455 §7.4.1: 1001 "indicates that an endpoint is "going away", such as a server going down".
            registry.closeAll(code: .goingAway, reason: "server shutting down")
            let deadline = eventLoop.scheduleTask(in: TimeAmount(grace)) { registry.dropAll() }
            registry.allClosedFuture(on: eventLoop).whenComplete { _ in
                deadline.cancel()
                self.streamContinuation.withLock { $0?.finish() }
            }
        }
    }

    private let streamContinuation = Mutex<AsyncStream<AcceptedConnection>.Continuation?>(nil)

    private func resumeWaiters(with result: Result<SocketAddress, any Error>, finalState: ListeningState) {
        let waiters: [CheckedContinuation<SocketAddress, any Error>] = listening.withLock { state in
            defer { state = finalState }
            if case .notStarted(let waiters) = state { return waiters }
            return []
        }
        for waiter in waiters { waiter.resume(with: result) }
    }

    private func serve(_ accepted: AcceptedConnection) async {
        let channel = accepted.asyncChannel.channel
        let connectionLogger = logger.with(metadata: ["ws.remote_address": "\(channel.remoteAddress.map { "\($0)" } ?? "-")"])
        do {
            try await accepted.asyncChannel.executeThenClose { inbound, outbound in
                let connection = WebSocketConnection(
                    role: .server,
                    channel: channel,
                    inbound: inbound,
                    outbound: outbound,
                    shared: accepted.shared,
                    request: accepted.request,
                    response: accepted.response,
                    subprotocol: accepted.subprotocol,
                    extensions: accepted.extensions,
                    logger: connectionLogger
                )
                registry.register(connection)
                defer { registry.unregister(connection) }
                do {
                    try await accepted.handler(connection)
                    try? await connection.close(code: .normalClosure)
                } catch {
                    connectionLogger.debug("connection handler threw", metadata: ["error": "\(error)"])
                    try? await connection.close(code: .internalError, reason: "internal error")
                }
            }
        } catch {
            connectionLogger.debug("connection ended with an error", metadata: ["error": "\(error)"])
        }
    }

    static func configurePipeline(_ channel: any Channel, context: HTTPConnectionHandler.Context, sslContext: NIOSSLContext?) throws {
        let pipeline = channel.pipeline.syncOperations
        if let sslContext {
            try pipeline.addHandler(NIOSSLServerHandler(context: sslContext))
        }
        let limit = HTTPHeadLimitHandler(maxHeadSize: context.configuration.maxHeaderSize)
        try pipeline.addHandler(limit)
        try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)), name: "duplex.http.decoder")
        try pipeline.addHandler(HTTPResponseEncoder(), name: "duplex.http.encoder")
        try pipeline.addHandler(
            HTTPConnectionHandler(server: context, limitHandler: limit, decoderName: "duplex.http.decoder", encoderName: "duplex.http.encoder")
        )
    }
}

extension Logger {
    func with(metadata: Logger.Metadata) -> Logger {
        var copy = self
        for (key, value) in metadata { copy[metadataKey: key] = value }
        return copy
    }
}
