import DuplexEngineIOCore
import DuplexWebSocket
import DuplexWebSocketCore
import HTTPTypes
import Logging
import NIOCore

extension EngineIOServer {
    /// Decides, before the 101, whether a WebSocket request to the Engine.IO endpoint may be
    /// upgraded; use it as the `shouldUpgrade` hook of a ``WebSocketRouter`` route.
    ///
    /// Refusals are answered 400 (403 for a forbidden origin or a refused handshake) with
    /// `{"code":N,"message":"…"}`; see ``validateUpgrade(head:remoteAddress:)``.
    public func shouldUpgrade(_ request: WebSocketUpgradeRequest) async -> WebSocketUpgradeDecision {
        if let refusal = await validateUpgrade(head: request.head, remoteAddress: request.remoteAddress) {
            return .reject(refusal)
        }
        return .accept(compression: configuration.perMessageDeflate)
    }

    /// Validates a WebSocket request before it is upgraded; returns the response to refuse it
    /// with, or nil to go ahead with the 101 and then call ``accept(_:request:)``.
    ///
    /// A request without `sid` opens a WebSocket-only session (after
    /// ``EngineIOServerConfiguration/allowRequest``). A request with `sid` upgrades that session,
    /// and is refused when the session is unknown (code 1), not on polling, already upgrading or
    /// upgraded, or upgrades are disabled (code 3). Nothing else is checked: a legitimate upgrade
    /// is never refused (DESIGN.md, "What users were bitten by", 2).
    public func validateUpgrade(head: HTTPRequest, remoteAddress: SocketAddress?) async -> HTTPServerResponse? {
        let headers = configuration.cors.responseHeaders(
            origin: head.headerFields[.origin],
            isPreflight: false,
            requestedHeaders: nil
        )
        switch classify(head, body: nil) {
        case .failure(let error):
            logger.debug("WebSocket request refused", metadata: ["code": "\(error.code)", "reason": "\(error.message)"])
            return rejection(error, headers: headers)
        case .success((let request, .handshake(.websocket, let protocolVersion))):
            let handshake = EngineIOHandshakeRequest(
                head: head,
                remoteAddress: remoteAddress,
                transport: .websocket,
                protocolVersion: protocolVersion,
                queryItems: request.queryItems
            )
            if let (status, message) = await refusal(of: handshake) {
                return Self.refusalResponse(status: status, message: message, headers: headers)
            }
            return nil
        case .success((_, .upgrade(let sid))):
            guard let session = session(sid) else {
                logger.debug(
                    "upgrade refused: unknown session",
                    metadata: [EngineIOLoggingMetadata.sid: "\(sid)"]
                )
                metrics.upgradeRefused()
                return rejection(EngineIOError(.sessionIdUnknown, "Session ID unknown"), headers: headers)
            }
            do {
                try session.checkUpgrade()
            } catch {
                session.logger.debug("upgrade refused", metadata: ["reason": "\(error.message)", "code": "\(error.code)"])
                metrics.upgradeRefused()
                return rejection(error, headers: headers)
            }
            return nil
        case .success:
            // A WebSocket request whose query asks for something else (e.g. a polling GET).
            let error = EngineIOError(.badRequest, "Not a WebSocket handshake or upgrade")
            logger.debug("WebSocket request refused", metadata: ["code": "\(error.code)", "reason": "\(error.message)"])
            return rejection(error, headers: headers)
        }
    }

    /// Serves an upgraded WebSocket (after ``validateUpgrade(head:remoteAddress:)`` or
    /// ``shouldUpgrade(_:)`` let it through) until it is done: as the transport of a new
    /// WebSocket-only session, or as the probe, then the transport, of an upgrading session
    /// (protocol.md 4.1.7). The session state is checked again here, so a WebSocket that lost a
    /// race (two upgrades of one session) is closed right after it opened.
    ///
    /// - Parameters:
    ///   - connection: the accepted WebSocket.
    ///   - request: the upgrade request; default `connection.request`.
    public func accept(_ connection: WebSocketConnection, request: HTTPRequest? = nil) async {
        // The same code path as the framework integrations (DESIGN.md: every deployment mode
        // runs the same protocol code).
        await accept(
            EngineIOWebSocketConnectionAdapter(connection: connection),
            request: request ?? connection.request,
            remoteAddress: connection.remoteAddress
        )
    }

    static func engineIOFrame(_ message: WebSocketMessage) -> EngineIOWebSocketFrame {
        switch message.kind {
        case .text: return .text(message.text ?? "")
        case .binary: return .binary(message.data)
        }
    }

    static func webSocketMessage(_ frame: EngineIOWebSocketFrame) -> WebSocketMessage {
        switch frame {
        case .text(let text): return .text(text)
        case .binary(let bytes): return .binary(bytes)
        }
    }
}
