import DuplexWebSocketCore
import HTTPTypes
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

extension WebSocketConnection {
    /// Connects to a WebSocket server and runs `body` with the open connection; the connection is
    /// closed (code 1000, or 1011 if `body` throws) when `body` returns.
    ///
    /// Errors from the library are always ``WebSocketError`` (see `Docs/Errors.md` for which code
    /// each failure produces); errors thrown by `body` are rethrown unchanged.
    public static func connect<Result: Sendable>(
        to url: String,
        configuration: WebSocketClientConfiguration = WebSocketClientConfiguration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "duplex.websocket.client", factory: { _ in SwiftLogNoOpLogHandler() }),
        _ body: (WebSocketConnection) async throws -> Result
    ) async throws -> Result {
        let metrics = WebSocketMetrics(role: .client, factory: configuration.metricsFactory)
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
    /// ``connectReconnecting(to:configuration:policy:eventLoopGroup:logger:_:)`` creates once.
    private static func connect<Result: Sendable>(
        to url: String,
        configuration: WebSocketClientConfiguration,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger,
        metrics: WebSocketMetrics,
        _ body: (WebSocketConnection) async throws -> Result
    ) async throws -> Result {
        let opened: OpenedConnection
        do throws(WebSocketError) {
            opened = try await open(
                WebSocketURL(url),
                configuration: configuration,
                eventLoopGroup: eventLoopGroup,
                logger: logger,
                metrics: metrics
            )
        } catch {
            metrics.handshakeFailed(error.code)
            throw error
        }
        return try await opened.run(role: .client, logger: logger, body)
    }

    /// Connects, runs `body`, and reconnects with backoff whenever connecting fails or the
    /// connection drops with a retryable error (``WebSocketError/isRetryable``): refused, reset,
    /// timeouts, 5xx, a server that closes before answering, abnormal closure. Returns when `body`
    /// returns; throws non-retryable errors, errors thrown by `body` that are not
    /// ``WebSocketError``, and the last error once ``ReconnectPolicy/maxAttempts`` is reached.
    public static func connectReconnecting(
        to url: String,
        configuration: WebSocketClientConfiguration = WebSocketClientConfiguration(),
        policy: ReconnectPolicy = .default,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "duplex.websocket.client", factory: { _ in SwiftLogNoOpLogHandler() }),
        _ body: (WebSocketConnection) async throws -> Void
    ) async throws {
        let metrics = WebSocketMetrics(role: .client, factory: configuration.metricsFactory)
        var failures = 0
        while true {
            do {
                try await connect(to: url, configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger, metrics: metrics) {
                    connection in
                    failures = 0
                    try await body(connection)
                }
                return
            } catch let error as WebSocketError where policy.shouldRetry(error) {
                failures += 1
                if let maxAttempts = policy.maxAttempts, failures >= maxAttempts { throw error }
                let delay = policy.delay(attempt: failures - 1)
                logger.debug("reconnecting", metadata: ["error": "\(error.code)", "delay": "\(delay)"])
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    throw WebSocketError(.cancelled, "cancelled while waiting to reconnect", cause: error)
                }
            }
        }
    }

    /// Opens a connection: TCP, proxy tunnel, TLS, upgrade, redirects, all within the open timeout.
    static func open(
        _ url: WebSocketURL,
        configuration: WebSocketClientConfiguration,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger,
        metrics: WebSocketMetrics
    ) async throws(WebSocketError) -> OpenedConnection {
        let timeout = configuration.openTimeout
        do {
            return try await withThrowingTaskGroup(of: OpenedConnection?.self) { group in
                group.addTask {
                    try await openFollowingRedirects(
                        url,
                        configuration: configuration,
                        eventLoopGroup: eventLoopGroup,
                        logger: logger,
                        metrics: metrics
                    )
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                guard let first = try await group.next(), let opened = first else {
                    group.cancelAll()
                    // A connection that completed while the timer fired must not leak.
                    while let late = try? await group.next() { late?.asyncChannel.channel.close(promise: nil) }
                    throw WebSocketError(.openingTimedOut, "the opening handshake did not complete within \(timeout)")
                }
                group.cancelAll()
                return opened
            }
        } catch {
            if Task.isCancelled { throw WebSocketError(.cancelled, "connecting was cancelled", cause: CancellationError()) }
            throw WebSocketError.translating(error, during: "the opening handshake")
        }
    }

    private static func openFollowingRedirects(
        _ start: WebSocketURL,
        configuration: WebSocketClientConfiguration,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger,
        metrics: WebSocketMetrics
    ) async throws -> OpenedConnection {
        var url = start
        var headers = configuration.headers
        var redirects = 0
        while true {
            let handshake = ClientHandshake(
                host: url.hostHeader,
                target: url.target,
                subprotocols: configuration.subprotocols,
                compression: configuration.compression,
                headers: headers
            )
            let (channel, result) = try await openOnce(url, handshake: handshake, configuration: configuration, eventLoopGroup: eventLoopGroup)
            let response = result.response
            if [301, 302, 303, 307, 308].contains(response.status.code), let location = response.headerFields[.location] {
                channel.close(promise: nil)
                redirects += 1
                guard redirects <= configuration.maxRedirects else {
                    throw WebSocketError(.tooManyRedirects, "more than \(configuration.maxRedirects) redirects", response: response)
                }
                let next = try url.resolvingRedirect(location)
                if next.origin != url.origin {
                    // Credentials are for the origin they were given for.
                    headers[.authorization] = nil
                    headers[.cookie] = nil
                    headers[.proxyAuthorization] = nil
                }
                logger.debug("following redirect", metadata: ["status": "\(response.status.code)", "location": "\(next)"])
                url = next
                continue
            }
            do {
                let negotiated = try handshake.validate(response)
                let shared = ConnectionSharedState()
                let request = HTTPRequest(method: .get, scheme: url.isSecure ? "https" : "http", authority: url.hostHeader, path: url.target, headerFields: headers)
                let asyncChannel = try await channel.eventLoop.submit {
                    // The codec is not Sendable: it is created on the event loop that will own it.
                    let deflate = try negotiated.compression.map { parameters throws(WebSocketError) in
                        try PerMessageDeflate(parameters: parameters, isClient: true, configuration: configuration.compression ?? .default)
                    }
                    let machineConfiguration = ConnectionStateMachine.Configuration(
                        role: .client,
                        limits: configuration.limits,
                        keepAlive: configuration.keepAlive,
                        closeTimeout: configuration.closeTimeout,
                        validatesUTF8: configuration.validatesUTF8,
                        deflate: deflate
                    )
                    let pipeline = channel.pipeline.syncOperations
                    guard channel.isActive, let upgradeHandler = try? pipeline.handler(type: ClientUpgradeHandler.self) else {
                        // The server closed TCP right after its 101, before this hop to the event
                        // loop: the pipeline is gone. RFC 6455 §7.1.5: no close frame, code 1006.
                        throw WebSocketError(
                            .connectionClosed,
                            "the server closed the connection right after the opening handshake",
                            closeInfo: CloseInfo(received: nil, sent: nil, receivedThenSent: false)
                        )
                    }
                    // The async channel's handlers go in first, so that the frames the upgrade
                    // handler buffered after the 101 (forwarded when it is removed) are not lost.
                    let asyncChannel = try NIOAsyncChannel<WebSocketMessage, WebSocketOutbound>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(backPressureStrategy: .init(lowWatermark: 2, highWatermark: 16))
                    )
                    try pipeline.addHandler(
                        WebSocketConnectionHandler(configuration: machineConfiguration, shared: shared, logger: logger, metrics: metrics),
                        position: .after(upgradeHandler)
                    )
                    pipeline.removeHandler(upgradeHandler, promise: nil)
                    return asyncChannel
                }.get()
                return OpenedConnection(
                    asyncChannel: asyncChannel,
                    shared: shared,
                    request: request,
                    response: response,
                    subprotocol: negotiated.subprotocol,
                    extensions: negotiated.extensionsHeader
                )
            } catch var rejection as WebSocketError where rejection.code == .handshakeRejected {
                channel.close(promise: nil)
                rejection.responseBody = result.body
                throw rejection
            } catch {
                channel.close(promise: nil)
                throw error
            }
        }
    }

    private static func openOnce(
        _ url: WebSocketURL,
        handshake: ClientHandshake,
        configuration: WebSocketClientConfiguration,
        eventLoopGroup: any EventLoopGroup
    ) async throws -> (any Channel, ClientUpgradeHandler.Result) {
        let proxy = configuration.proxy
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoopGroup)
                .connectTimeout(TimeAmount(configuration.openTimeout))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: proxy?.host ?? url.host, port: proxy?.port ?? url.port)
                .get()
        } catch {
            let translated = WebSocketError.translating(error, during: "connecting")
            if proxy != nil { throw WebSocketError(.proxyFailed, "could not reach the proxy", cause: error) }
            throw translated
        }
        // Both promises are completed on every path (NIO checks for leaked promises).
        let tunnel = proxy.map { _ in channel.eventLoop.makePromise(of: Void.self) }
        let upgraded = channel.eventLoop.makePromise(of: ClientUpgradeHandler.Result.self)
        return try await withTaskCancellationHandler {
            do {
                if let proxy, let tunnel {
                    try await channel.eventLoop.submit {
                        try channel.pipeline.syncOperations.addHandler(
                            ProxyConnectHandler(targetHost: url.host, targetPort: url.port, authorization: proxy.authorization, promise: tunnel)
                        )
                    }.get()
                    try await tunnel.futureResult.get()
                }
                let sslContext = try url.isSecure ? NIOSSLContext(configuration: configuration.tls) : nil
                try await channel.eventLoop.submit {
                    let pipeline = channel.pipeline.syncOperations
                    if let sslContext {
                        // SNI needs a host name, not an address (RFC 6066 §3).
                        let isAddress = (try? SocketAddress(ipAddress: url.host, port: 0)) != nil
                        try pipeline.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: isAddress ? nil : url.host))
                    }
                    try pipeline.addHandler(
                        ClientUpgradeHandler(
                            request: handshake.requestHead(allocator: channel.allocator),
                            parser: HTTPResponseHeadParser(maxHeadSize: configuration.maxHeaderSize, maxHeaderCount: configuration.maxHeaderCount),
                            promise: upgraded
                        )
                    )
                }.get()
                return (channel, try await upgraded.futureResult.get())
            } catch {
                tunnel?.fail(error)
                upgraded.fail(error)
                channel.close(promise: nil)
                throw error
            }
        } onCancel: {
            // Completing an already completed promise is a no-op, so this only unblocks waits.
            tunnel?.fail(CancellationError())
            upgraded.fail(CancellationError())
            channel.close(promise: nil)
        }
    }
}

/// A client or server connection between the handshake and the application's scope.
struct OpenedConnection: Sendable {
    var asyncChannel: NIOAsyncChannel<WebSocketMessage, WebSocketOutbound>
    var shared: ConnectionSharedState
    var request: HTTPRequest
    var response: HTTPResponse
    var subprotocol: String?
    var extensions: String?

    /// Runs `body` with the connection, then closes it gracefully: 1000 when `body` returns,
    /// 1011 when it throws.
    func run<Result: Sendable>(role: Role, logger: Logger, _ body: (WebSocketConnection) async throws -> Result) async throws -> Result {
        let channel = asyncChannel.channel
        let outcome: Swift.Result<Result, any Error> = await {
            do {
                return .success(
                    try await asyncChannel.executeThenClose { inbound, outbound in
                        let connection = WebSocketConnection(
                            role: role,
                            channel: channel,
                            inbound: inbound,
                            outbound: outbound,
                            shared: shared,
                            request: request,
                            response: response,
                            subprotocol: subprotocol,
                            extensions: extensions,
                            logger: logger
                        )
                        do {
                            let result = try await body(connection)
                            try? await connection.close(code: .normalClosure)
                            return result
                        } catch {
                            try? await connection.close(code: .internalError, reason: "application error")
                            throw error
                        }
                    }
                )
            } catch {
                return .failure(error)
            }
        }()
        return try outcome.get()
    }
}
