import DuplexEngineIOCore
import DuplexWebSocket
import HTTPTypes
import Logging
import NIOCore

extension EngineIOServer {
    /// Serves an HTTP request to the Engine.IO endpoint: a handshake, a long-polling GET (held
    /// until the session has something to send), a POST, or a CORS preflight.
    public func handle(_ request: HTTPServerRequest) async -> HTTPServerResponse {
        await handle(head: request.head, body: request.body, remoteAddress: request.remoteAddress)
    }

    /// Serves an HTTP request given as its parts, for adapters of other HTTP servers.
    ///
    /// Refused requests are answered as the reference server does (protocol.md 4.1.1): 400 (403
    /// for a forbidden origin or a refused handshake, 413 for an oversized POST) with
    /// `{"code":N,"message":"…"}`.
    public func handle(head: HTTPRequest, body: ByteBuffer, remoteAddress: SocketAddress?) async -> HTTPServerResponse {
        var headers = configuration.cors.responseHeaders(
            origin: head.headerFields[.origin],
            isPreflight: head.method == .options,
            requestedHeaders: head.headerFields[.accessControlRequestHeaders]
        )
        let request: EngineIORequest
        let kind: EngineIORequestKind
        switch classify(head, body: body) {
        case .success(let classified):
            (request, kind) = classified
        case .failure(let error):
            logRejection(error, head: head)
            return rejection(error, headers: headers)
        }
        switch kind {
        case .preflight:
            return HTTPServerResponse(status: .noContent, headers: headers)

        case .handshake(let transport, let protocolVersion):
            guard transport == .polling else {
                // classify only lets a WebSocket handshake through when it is an upgrade, which
                // belongs to accept(_:request:), not here.
                return rejection(EngineIOError(.badRequest, "WebSocket handshake sent as plain HTTP"), headers: headers)
            }
            let handshake = EngineIOHandshakeRequest(
                head: head,
                remoteAddress: remoteAddress,
                transport: .polling,
                protocolVersion: protocolVersion,
                queryItems: request.queryItems
            )
            if let (status, message) = await refusal(of: handshake) {
                return Self.refusalResponse(status: status, message: message, headers: headers)
            }
            let session = openSession(transport: .polling, pollingFormat: request.pollingFormat, request: handshake)
            // Messages sent before the handshake response wait in the session's queue.
            publish(session)
            if let cookie = configuration.cookie {
                headers[.setCookie] = cookie.headerValue(sid: session.id.rawValue)
            }
            return pollResponse(await session.poll(), headers: headers, acceptEncoding: head.headerFields[.acceptEncoding])

        case .poll(let sid):
            guard let session = session(sid) else {
                return unknownSession(sid, head: head, headers: headers)
            }
            let result = await session.poll()
            if case .failure(let error) = result {
                session.logger.debug("polling GET refused", metadata: ["reason": "\(error.message)"])
            }
            return pollResponse(result, headers: headers, acceptEncoding: head.headerFields[.acceptEncoding])

        case .post(let sid):
            guard let session = session(sid) else {
                return unknownSession(sid, head: head, headers: headers)
            }
            switch session.post(body, contentType: head.headerFields[.contentType]) {
            case .success:
                // The packets are processed (a pong counts at once), but while the application
                // is behind, the answer waits: clients send one POST at a time, so this holds
                // the next one back. The reference server has no inbound limit.
                await session.waitForInboundRoom(pausingHeartbeat: false)
                // ref impl: a POST is answered `ok` with `Content-Type: text/html`.
                headers[.contentType] = "text/html"
                return HTTPServerResponse(status: .ok, headers: headers, body: ByteBuffer(string: "ok"))
            case .failure(let error):
                session.logger.debug("polling POST refused", metadata: ["reason": "\(error.message)", "code": "\(error.code)"])
                return rejection(error, headers: headers)
            }

        case .upgrade:
            return rejection(EngineIOError(.badRequest, "WebSocket upgrade sent as plain HTTP"), headers: headers)
        }
    }

    private func unknownSession(_ sid: EngineIOSessionID, head: HTTPRequest, headers: HTTPFields) -> HTTPServerResponse {
        // protocol.md 4.1.4: "Unknown or expired sid: 400."
        let error = EngineIOError(.sessionIdUnknown, "Session ID unknown")
        logger.debug(
            "request for an unknown session",
            metadata: [EngineIOLoggingMetadata.sid: "\(sid)", "method": "\(head.method)"]
        )
        return rejection(error, headers: headers)
    }

    private func logRejection(_ error: EngineIOError, head: HTTPRequest) {
        logger.debug(
            "request refused",
            metadata: ["code": "\(error.code)", "reason": "\(error.message)", "method": "\(head.method)"]
        )
    }

    /// The answer to a polling GET: the payload (compressed when large and accepted), or the error.
    private func pollResponse(_ result: PollResult, headers: HTTPFields, acceptEncoding: String?) -> HTTPServerResponse {
        switch result {
        case .failure(let error):
            return rejection(error, headers: headers)
        case .success(let payload):
            var headers = headers
            var body = payload.bytes
            headers[.contentType] = payload.contentType.rawValue
            if let compression = configuration.httpCompression, body.readableBytes >= compression.threshold,
                let encoding = HTTPBodyCompressor.negotiate(acceptEncoding: acceptEncoding),
                let compressed = HTTPBodyCompressor.compress(body, encoding: encoding, level: compression.level)
            {
                body = compressed
                headers[.contentEncoding] = encoding.rawValue
            }
            return HTTPServerResponse(status: .ok, headers: headers, body: body)
        }
    }

    /// The response to a refused request (``errorResponse(_:headers:)``), counted in the
    /// metrics. A polling GET given up by its client (`cancelled`) is not a refusal.
    func rejection(_ error: EngineIOError, headers: HTTPFields) -> HTTPServerResponse {
        if error.code != .cancelled { metrics.failed(error.code) }
        return Self.errorResponse(error, headers: headers)
    }

    /// A refused request (protocol.md 4.1.1): the error's status, and the reference server's JSON
    /// body `{"code":N,"message":"…"}` when the error has a wire code (else a text body).
    static func errorResponse(_ error: EngineIOError, headers: HTTPFields) -> HTTPServerResponse {
        let status = HTTPResponse.Status(code: error.httpStatus)
        var headers = headers
        if let json = error.httpResponseBody {
            headers[.contentType] = "application/json"
            return HTTPServerResponse(status: status, headers: headers, body: ByteBuffer(string: json))
        }
        headers[.contentType] = "text/plain; charset=utf-8"
        return HTTPServerResponse(status: status, headers: headers, body: ByteBuffer(string: status.reasonPhrase))
    }

    /// A handshake refused by ``EngineIOServerConfiguration/allowRequest``: wire code 4 with the
    /// hook's message (ref impl: `Server.errors.FORBIDDEN` with the `allowRequest` message).
    static func refusalResponse(status: HTTPResponse.Status, message: String, headers: HTTPFields) -> HTTPServerResponse {
        var headers = headers
        headers[.contentType] = "application/json"
        let body = "{\"code\":4,\"message\":\(jsonQuoted(message))}"
        return HTTPServerResponse(status: status, headers: headers, body: ByteBuffer(string: body))
    }

    /// `string` as a JSON string literal (RFC 8259 §7).
    static func jsonQuoted(_ string: String) -> String {
        var result = "\""
        result.reserveCapacity(string.utf8.count + 2)
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
