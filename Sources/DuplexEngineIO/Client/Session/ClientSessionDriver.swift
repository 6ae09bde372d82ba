import DuplexEngineIOCore
import DuplexWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// Runs one client session: feeds the sans-I/O ``EngineIOClientSession`` with what happened
/// and executes the actions it returns, and nothing else.
///
/// All decisions are the session's; the driver only does I/O, through workers that report back
/// as ``ClientDriverEvent``s on one stream, handled one at a time in order. It never waits for
/// I/O itself, so events are handled promptly:
/// - a GET worker and a POST worker, each with its own keep-alive connection and at most one
///   request in flight (protocol.md 4.1.4);
/// - one ``ClientWebSocketTransport`` per WebSocket (the session's, or an upgrade probe);
/// - the session's timer, on the event loop.
///
/// Not `Sendable`: it lives in the task that calls ``run()``.
final class ClientSessionDriver {
    /// What the driver is given by ``EngineIOClient``.
    struct Context: Sendable {
        var endpoint: ClientEndpoint
        var configuration: EngineIOClientConfiguration
        var eventLoopGroup: any EventLoopGroup
        var logger: Logger
        var metrics: EngineIOMetrics
        var pollConnection: ClientPollingConnection
        var postConnection: ClientPollingConnection
        var state: ClientSocketState
        var source: EngineIOClientMessages.Producer.Source
        var events: AsyncStream<ClientDriverEvent>
        var eventsContinuation: AsyncStream<ClientDriverEvent>.Continuation
        var opened: ClientOneShot<Result<EngineIOHandshake, EngineIOError>>
        var finished: ClientOneShot<Void>
    }

    /// A request for a polling worker.
    private struct Request: Sendable {
        var method: HTTPMethod
        var target: String
        var body: EngineIOPollingBody?
        var timeout: Duration
    }

    private let context: Context
    private var logger: Logger
    private var session: EngineIOClientSession
    private let pollRequests: AsyncStream<Request>.Continuation
    private let pollRequestStream: AsyncStream<Request>
    private let postRequests: AsyncStream<Request>.Continuation
    private let postRequestStream: AsyncStream<Request>
    private let timerLoop: any EventLoop
    private var timer: Scheduled<Void>?
    private var webSocket: ClientWebSocketTransport?
    private var nextWebSocketID = 0
    /// The last transport failure, the cause of a `transportError` close.
    private var lastError: EngineIOError?
    private var isClientClosing = false
    private var isDone = false
    private var isReadPaused = false
    private var isReaderGone = false
    private var isPollDeferred = false
    /// Between `openWebSocket` and the upgrade's outcome: the session waits for the pending GET
    /// before switching (protocol.md 4.1.7 step 2), so GETs are never deferred then.
    private var isUpgrading = false
    private var parkedSends: [Int] = []
    /// Where the session is in its metrics: opening, counted as open on a transport (the
    /// session reports `polling` once closed), or counted as ended.
    private var metricsPhase = MetricsPhase.opening

    private enum MetricsPhase: Equatable {
        case opening
        case open(EngineIOTransport)
        case ended
    }

    init(context: Context) {
        self.context = context
        self.logger = context.logger
        self.session = EngineIOClientSession(configuration: context.configuration.sessionConfiguration)
        (pollRequestStream, pollRequests) = AsyncStream.makeStream(of: Request.self)
        (postRequestStream, postRequests) = AsyncStream.makeStream(of: Request.self)
        timerLoop = context.eventLoopGroup.next()
    }

    /// Runs the session to its end, then resolves ``Context/finished``.
    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { [pollRequestStream, context] in
                for await request in pollRequestStream {
                    let result = await Self.execute(request, on: context.pollConnection)
                    context.eventsContinuation.yield(.pollCompleted(result))
                }
            }
            group.addTask { [postRequestStream, context] in
                for await request in postRequestStream {
                    let result = await Self.execute(request, on: context.postConnection)
                    context.eventsContinuation.yield(.postCompleted(result))
                }
            }
            executeActions(&group)
            for await event in context.events {
                handle(event)
                executeActions(&group)
                if isDone { break }
                resumeParkedSends()
            }
            if !isDone {
                // The events end only when the task is cancelled.
                let error = EngineIOError(.cancelled, "the session was cancelled", cause: CancellationError())
                switch metricsPhase {
                case .opening: context.metrics.failed(error.code)
                case .open(let transport): context.metrics.sessionClosed(reasonName: EngineIOMetrics.cancelledReason, transport: transport)
                case .ended: break
                }
                metricsPhase = .ended
                context.opened.resolve(.failure(error))
                end(with: error, graceful: false)
            }
            pollRequests.finish()
            postRequests.finish()
            context.eventsContinuation.finish()
        }
        context.finished.resolve(())
    }

    // MARK: - Events

    private func handle(_ event: ClientDriverEvent) {
        switch event {
        case .pollCompleted(.success(let response)):
            session.pollResponseReceived(
                response.body,
                contentType: response.headers.first(name: "Content-Type"),
                now: .now()
            )
        case .pollCompleted(.failure(let error)):
            lastError = error
            session.pollFailed(error)
        case .postCompleted(.success):
            session.postResponseReceived()
        case .postCompleted(.failure(let error)):
            lastError = error
            session.postFailed(error)
        case .webSocketOpened(let id):
            guard id == webSocket?.id else { return }
            logger.debug("WebSocket open", metadata: ["eio.probe": "\(session.transport == .polling)"])
            session.webSocketOpened(now: .now())
        case .webSocketReceived(let id, let frame):
            guard id == webSocket?.id else { return }
            logger.trace("< \(frame)")
            session.webSocketMessageReceived(frame, now: .now())
        case .webSocketDrained:
            break
        case .webSocketEnded(let id, let error):
            guard id == webSocket?.id else { return }
            webSocket = nil
            if let error {
                lastError = error
                session.webSocketFailed(error)
            } else {
                session.webSocketClosed()
            }
        case .timerFired:
            session.timerFired(now: .now())
        case .send(let data, let id):
            do {
                try session.sendRequested(data)
                context.metrics.messagesSent(transport: session.transport)
                parkedSends.append(id)
            } catch {
                context.state.resolveSend(id, .failure(error))
            }
        case .close:
            isClientClosing = true
            session.closeRequested()
        case .readResumed, .readerGone:
            if case .readerGone = event { isReaderGone = true }
            isReadPaused = false
            webSocket?.setReadPaused(false)
            if isPollDeferred {
                isPollDeferred = false
                issuePoll()
            }
        }
    }

    // MARK: - Actions

    private func executeActions(_ group: inout DiscardingTaskGroup) {
        while !isDone, let action = session.nextAction() {
            switch action {
            case .sendHandshake(let transport):
                logger.debug("opening session", metadata: ["eio.transport": "\(transport)"])
                if transport == .websocket {
                    startWebSocket(sid: nil, &group)
                } else {
                    pollRequests.yield(
                        Request(
                            method: .GET,
                            target: context.endpoint.target(transport: .polling, sid: nil),
                            timeout: context.configuration.openTimeout
                        )
                    )
                }
            case .sendPoll:
                if isReadPaused && !isUpgrading { isPollDeferred = true } else { issuePoll() }
            case .sendPost(let body):
                logger.trace("> POST \(body)")
                postRequests.yield(
                    Request(
                        method: .POST,
                        target: context.endpoint.target(transport: .polling, sid: session.handshake?.sid),
                        body: body,
                        timeout: context.configuration.requestTimeout
                    )
                )
            case .openWebSocket:
                logger.debug("upgrade: opening the probe WebSocket")
                isUpgrading = true
                if isPollDeferred {
                    isPollDeferred = false
                    issuePoll()
                }
                startWebSocket(sid: session.handshake?.sid, &group)
            case .writeWebSocket(let frame):
                logger.trace("> \(frame)")
                webSocket?.write(frame)
            case .closeWebSocket:
                webSocket?.detach(abort: !isClientClosing)
                webSocket = nil
            case .opened(let handshake):
                logger[metadataKey: "eio.sid"] = "\(handshake.sid)"
                logger.debug(
                    "session open",
                    metadata: [
                        "eio.transport": "\(session.transport)",
                        "eio.upgrades": "\(handshake.upgrades)",
                        "eio.ping_interval": "\(handshake.pingInterval)",
                        "eio.ping_timeout": "\(handshake.pingTimeout)",
                    ]
                )
                metricsPhase = .open(session.transport)
                context.metrics.sessionOpened(transport: session.transport)
                context.opened.resolve(.success(handshake))
            case .deliver(let data):
                deliver(data)
            case .scheduleTimer(let deadline):
                timer?.cancel()
                timer = timerLoop.scheduleTask(deadline: deadline) { [events = context.eventsContinuation] in
                    events.yield(.timerFired)
                }
            case .cancelTimer:
                timer?.cancel()
                timer = nil
            case .upgradeCompleted:
                isUpgrading = false
                context.metrics.upgradeCompleted()
                if case .open = metricsPhase { metricsPhase = .open(.websocket) }
                logger.debug("upgrade complete: the session runs over WebSocket")
                logger[metadataKey: "eio.transport"] = "websocket"
                context.state.transportChanged(to: .websocket)
                // protocol.md 4.1.7 step 4: polling is over for this session; both requests
                // have completed (the session waited for them), so the connections are idle.
                context.pollConnection.abort()
                context.postConnection.abort()
                if isReadPaused { webSocket?.setReadPaused(true) }
            case .upgradeFailed(let error):
                // DESIGN.md, "What users were bitten by" 2: the session stays on polling and
                // loses nothing; the reason is worth a debug line, not an error.
                logger.debug("upgrade failed, staying on polling", metadata: ["eio.reason": "\(error)"])
                isUpgrading = false
                context.metrics.upgradeFailed()
            case .openFailed(let error):
                let surfaced = Self.openingError(error)
                logger.debug("opening failed", metadata: ["eio.reason": "\(surfaced)"])
                if metricsPhase == .opening { context.metrics.failed(surfaced.code) }
                metricsPhase = .ended
                context.opened.resolve(.failure(surfaced))
                end(with: surfaced, graceful: false)
            case .closeSession(let reason):
                logger.debug("session closed", metadata: ["eio.reason": "\(reason)"])
                if case .open(let transport) = metricsPhase { context.metrics.sessionClosed(reason, transport: transport) }
                metricsPhase = .ended
                let error = closeError(reason)
                end(with: error, graceful: error == nil)
            }
        }
    }

    private func issuePoll() {
        let handshake = session.handshake
        let heartbeat = (handshake?.pingInterval ?? .zero) + (handshake?.pingTimeout ?? .zero)
        pollRequests.yield(
            Request(
                method: .GET,
                target: context.endpoint.target(transport: .polling, sid: handshake?.sid),
                timeout: heartbeat + context.configuration.requestTimeout
            )
        )
    }

    private func startWebSocket(sid: String?, _ group: inout DiscardingTaskGroup) {
        nextWebSocketID += 1
        let transport = ClientWebSocketTransport(id: nextWebSocketID)
        webSocket = transport
        var configuration = context.configuration.webSocket
        configuration.headers = context.configuration.headers
        configuration.metricsFactory = context.configuration.metricsFactory
        let url = context.endpoint.webSocketURL(sid: sid)
        group.addTask { [context, logger, configuration] in
            await transport.run(
                url: url,
                configuration: configuration,
                eventLoopGroup: context.eventLoopGroup,
                logger: logger,
                events: context.eventsContinuation
            )
        }
    }

    private func deliver(_ data: EngineIOPacketData) {
        context.metrics.messageReceived(transport: session.transport)
        guard !isReaderGone else { return }
        switch context.source.yield(data) {
        case .produceMore:
            break
        case .stopProducing:
            // Backpressure: no new GET, no WebSocket read, until the application catches up.
            isReadPaused = true
            if session.transport == .websocket { webSocket?.setReadPaused(true) }
        case .dropped:
            isReaderGone = true
        }
    }

    /// Sends return once the session took their message, unless too many wait for a transport.
    private func resumeParkedSends() {
        guard !parkedSends.isEmpty else { return }
        let waiting = session.bufferedPacketCount + (webSocket?.pendingWriteCount ?? 0)
        guard waiting <= context.configuration.maxBufferedSendCount else { return }
        for id in parkedSends { context.state.resolveSend(id, .success(())) }
        parkedSends.removeAll()
    }

    /// Ends the session: the messages end (with `error`), sends fail, transports are released.
    /// `graceful` lets the last POST or WebSocket message (the `close` packet) go out.
    private func end(with error: EngineIOError?, graceful: Bool) {
        guard !isDone else { return }
        isDone = true
        timer?.cancel()
        timer = nil
        if let error { context.source.finish(error) } else { context.source.finish() }
        for id in parkedSends { context.state.resolveSend(id, .success(())) }
        parkedSends.removeAll()
        context.state.finish()
        context.pollConnection.abort()
        pollRequests.finish()
        if !graceful { context.postConnection.abort() }
        postRequests.finish()
        webSocket?.detach(abort: !graceful)
        webSocket = nil
    }

    /// The error the messages end with for a close `reason`; `nil` for a normal close.
    private func closeError(_ reason: EngineIOCloseReason) -> EngineIOError? {
        switch reason {
        case .clientDisconnect, .serverDisconnect:
            return nil
        case .pingTimeout:
            let heartbeat = (session.handshake?.pingInterval ?? .zero) + (session.handshake?.pingTimeout ?? .zero)
            return EngineIOError(.pingTimeout, "no ping from the server within \(heartbeat)")
        case .transportClose:
            return EngineIOError(.transportClosed, "the transport closed", cause: lastError)
        case .parseError:
            return EngineIOError(.invalidPacket, "the server sent a malformed packet or payload", cause: lastError)
        default:
            return EngineIOError(.transportError, "the transport failed: \(reason)", cause: lastError)
        }
    }

    /// The core reports a WebSocket-only handshake failure as `connectionFailed` wrapping the
    /// WebSocket's error; a rejection (with its response) or a cancellation is surfaced as such,
    /// as it is over polling.
    private static func openingError(_ error: EngineIOError) -> EngineIOError {
        if error.code == .connectionFailed, let inner = error.cause as? EngineIOError,
            inner.code == .handshakeRejected || inner.code == .cancelled || inner.code == .connectionFailed
        {
            return inner
        }
        return error
    }

    private static func execute(_ request: Request, on connection: ClientPollingConnection) async
        -> Result<ClientPollingResponse, EngineIOError>
    {
        do {
            return .success(
                try await connection.execute(
                    method: request.method,
                    target: request.target,
                    body: request.body,
                    timeout: request.timeout
                )
            )
        } catch {
            return .failure(error)
        }
    }
}
