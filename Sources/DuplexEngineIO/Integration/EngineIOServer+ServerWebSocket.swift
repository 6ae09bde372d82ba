import DuplexEngineIOCore
import DuplexWebSocketCore
import HTTPTypes
import Logging
import NIOCore

extension EngineIOServer {
    /// Serves a WebSocket that another HTTP server upgraded (after
    /// ``validateUpgrade(head:remoteAddress:)`` let it through) until it is done: as the
    /// transport of a new WebSocket-only session, or as the probe, then the transport, of an
    /// upgrading session (protocol.md 4.1.7). The session state is checked again here, so a
    /// WebSocket that lost a race (two upgrades of one session) is closed right after it opened.
    ///
    /// - Parameters:
    ///   - webSocket: the upgraded WebSocket, adapted to ``EngineIOServerWebSocket``.
    ///   - request: the upgrade request as the client sent it (its path and query decide the
    ///     session).
    ///   - remoteAddress: the peer's address, when known (handed to the application).
    public func accept(
        _ webSocket: some EngineIOServerWebSocket,
        request head: HTTPRequest,
        remoteAddress: SocketAddress?
    ) async {
        let session: ServerSession
        let attachment: ServerSession.WebSocketAttachment
        switch classify(head, body: nil) {
        case .success((let request, .handshake(.websocket, let protocolVersion))):
            let handshake = EngineIOHandshakeRequest(
                head: head,
                remoteAddress: remoteAddress,
                transport: .websocket,
                protocolVersion: protocolVersion,
                queryItems: request.queryItems
            )
            session = openSession(
                transport: .websocket,
                pollingFormat: request.pollingFormat,
                request: handshake,
                eventLoop: webSocket.eventLoop
            )
            do {
                attachment = try session.attachWebSocket(asUpgrade: false)
            } catch {
                // A new session has no WebSocket yet; this cannot happen.
                session.startClosing()
                await refuse(webSocket, error, logger: session.logger)
                return
            }
            publish(session)
        case .success((_, .upgrade(let sid))):
            guard let existing = self.session(sid) else {
                var sessionLogger = logger
                sessionLogger[metadataKey: EngineIOLoggingMetadata.sid] = "\(sid)"
                await refuse(webSocket, EngineIOError(.sessionIdUnknown, "Session ID unknown"), logger: sessionLogger, isUpgrade: true)
                return
            }
            session = existing
            do {
                attachment = try session.attachWebSocket(asUpgrade: true)
            } catch {
                await refuse(webSocket, error, logger: session.logger, isUpgrade: true)
                return
            }
            session.logger.debug("upgrade probe: WebSocket attached, waiting for 2probe and 5")
        case .success:
            await refuse(webSocket, EngineIOError(.badRequest, "Not a WebSocket handshake or upgrade"), logger: logger)
            return
        case .failure(let error):
            await refuse(webSocket, error, logger: logger)
            return
        }
        await serve(webSocket, session: session, attachment: attachment)
    }

    private func refuse(_ webSocket: some EngineIOServerWebSocket, _ error: EngineIOError, logger: Logger, isUpgrade: Bool = false) async {
        metrics.failed(error.code)
        if isUpgrade { metrics.upgradeRefused() }
        logger.debug(
            "WebSocket refused after the upgrade, closing it",
            metadata: ["reason": "\(error.message)", "code": "\(error.code)"]
        )
        // ref impl: the WebSocket of a refused upgrade is simply closed. RFC 6455 §5.5.1: a close
        // reason fits in 123 bytes.
        try? await webSocket.close(code: .policyViolation, reason: String(error.message.prefix(100)))
    }

    /// Runs an attached WebSocket: the session's frames are written in order, each time all that
    /// is queued with one flush, from the event loop while the peer reads (when the WebSocket
    /// supports it) and otherwise by a writer task, which also closes the WebSocket once the
    /// session detaches it; this task feeds incoming messages to the session.
    private func serve(
        _ webSocket: some EngineIOServerWebSocket,
        session: ServerSession,
        attachment: ServerSession.WebSocketAttachment
    ) async {
        if webSocket.supportsTrySend, let eventLoop = webSocket.eventLoop {
            attachment.enableLoopWrites(on: eventLoop) { frames in webSocket.trySend(contentsOf: frames) }
        }
        await withDiscardingTaskGroup { group in
            group.addTask {
                while let frames = await attachment.nextFrames() {
                    do {
                        try await webSocket.send(contentsOf: frames)
                    } catch {
                        break
                    }
                }
                try? await webSocket.close(code: .normalClosure, reason: "")
            }
            var failed = false
            do {
                for try await frame in webSocket.inbound {
                    guard session.webSocketReceived(frame, token: attachment.token) else { break }
                    // DESIGN.md: "a slow reader stops socket reads": not asking the WebSocket for
                    // the next message leaves the socket unread.
                    await session.waitForInboundRoom(pausingHeartbeat: true)
                }
            } catch {
                let translated = EngineIOError.translating(error, during: .transport)
                failed = translated.code != .transportClosed
                session.logger.debug("WebSocket ended", metadata: ["reason": "\(translated.message)", "cause": "\(error)"])
            }
            session.webSocketEnded(token: attachment.token, failed: failed)
        }
    }
}
