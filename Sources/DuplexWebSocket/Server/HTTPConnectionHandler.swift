import DuplexWebSocketCore
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1

/// The HTTP/1.1 phase of a server connection: serves plain requests through the router and
/// performs the WebSocket upgrade (RFC 6455 §4.2), then hands the channel to the
/// ``WebSocketConnectionHandler``.
final class HTTPConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Everything the handler needs from the server.
    struct Context: Sendable {
        var configuration: WebSocketServerConfiguration
        var router: WebSocketRouter
        var logger: Logger
        /// The server's metrics, shared by its connections.
        var metrics: WebSocketMetrics
        /// Receives each accepted connection: the wrapped channel and its route's handler.
        var accepted: @Sendable (AcceptedConnection) -> Void
        /// Told about each connection upgraded to an event-loop message handler.
        var upgradedOnLoop: @Sendable (any Channel) -> Void
    }

    private enum State {
        case idle
        case receiving(HTTPRequestHead, body: ByteBuffer)
        case bodyTooLarge
        case busy
        case upgraded
    }

    private let server: Context
    private let limitHandler: HTTPHeadLimitHandler
    private let decoderName: String
    private let encoderName: String
    private var state: State = .idle
    private var queued: [HTTPServerRequestPart] = []
    private var timeout: Scheduled<Void>?
    private var responderTask: Task<HTTPServerResponse, any Error>?

    init(server: Context, limitHandler: HTTPHeadLimitHandler, decoderName: String, encoderName: String) {
        self.server = server
        self.limitHandler = limitHandler
        self.decoderName = decoderName
        self.encoderName = encoderName
    }

    func handlerAdded(context: ChannelHandlerContext) { armTimeout(context: context) }

    func handlerRemoved(context: ChannelHandlerContext) {
        timeout?.cancel()
        timeout = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        responderTask?.cancel()
        responderTask = nil
        timeout?.cancel()
        timeout = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .busy = state {
            queued.append(part)  // HTTP/1.1 pipelining: answer in order
            return
        }
        handle(part, context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Malformed HTTP: RFC 9112 §2.2 lets a server answer 400 and close.
        if error is HTTPParserError, case .idle = state {
            respondAndClose(context: context, status: .badRequest, text: "Bad Request")
            return
        }
        server.logger.debug("HTTP connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch (part, state) {
        case (.head(let head), .idle):
            guard head.headers.count <= server.configuration.maxHeaderCount else {
                respondAndClose(context: context, status: .requestHeaderFieldsTooLarge, text: "Too many header fields")
                return
            }
            state = .receiving(head, body: context.channel.allocator.buffer(capacity: 0))
        case (.body(var chunk), .receiving(let head, var body)):
            state = .busy  // drop the reference to `body` so appending does not copy it
            guard body.readableBytes + chunk.readableBytes <= server.configuration.maxRequestBodySize else {
                state = .bodyTooLarge
                respondAndClose(context: context, status: .contentTooLarge, text: "Payload Too Large")
                return
            }
            body.writeBuffer(&chunk)
            state = .receiving(head, body: body)
        case (.end, .receiving(let head, let body)):
            timeout?.cancel()
            timeout = nil
            state = .busy
            let request = Self.httpRequest(head)
            if ServerHandshake.isUpgradeRequest(request.headerFields) || head.headers.contains(name: "sec-websocket-key") {
                upgrade(head: head, request: request, context: context)
            } else {
                serveHTTP(request, body: body, keepAlive: head.isKeepAlive, context: context)
            }
        case (_, .bodyTooLarge), (_, .upgraded):
            break
        default:
            respondAndClose(context: context, status: .badRequest, text: "Bad Request")
        }
    }

    // MARK: - Plain HTTP

    private func serveHTTP(_ head: HTTPRequest, body: ByteBuffer, keepAlive: Bool, context: ChannelHandlerContext) {
        let request = HTTPServerRequest(head: head, body: body, remoteAddress: context.channel.remoteAddress)
        guard let responder = server.router.httpResponder(for: request.path) else {
            if server.router.webSocketRoute(for: request.path) != nil {
                // RFC 9110 §15.5.22: a WebSocket endpoint asked without Upgrade.
                var headers = HTTPFields()
                headers[.upgrade] = "websocket"
                headers[.connection] = "Upgrade"
                headers[.secWebSocketVersion] = "13"
                respond(context: context, HTTPServerResponse(status: .upgradeRequired, headers: headers, body: ByteBuffer(string: "Upgrade Required")), keepAlive: keepAlive)
            } else {
                respond(context: context, HTTPServerResponse(status: .notFound, text: "Not Found"), keepAlive: keepAlive)
            }
            return
        }
        let promise = context.eventLoop.makePromise(of: HTTPServerResponse.self)
        // The task is cancelled if the client goes away, so a held long-poll stops waiting and
        // whatever it would have sent stays with the application instead of a dead connection.
        let task = Task { try await responder(request) }
        responderTask = task
        promise.completeWithTask { try await task.value }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let logger = server.logger
        promise.futureResult.whenComplete { result in
            bound.value.0.responderTask = nil
            let (handler, context) = bound.value
            switch result {
            case .success(let response):
                handler.respond(context: context, response, keepAlive: keepAlive)
            case .failure(let error):
                logger.debug("HTTP responder failed", metadata: ["error": "\(error)"])
                handler.respond(context: context, HTTPServerResponse(status: .internalServerError, text: "Internal Server Error"), keepAlive: false)
            }
        }
    }

    private func respond(context: ChannelHandlerContext, _ response: HTTPServerResponse, keepAlive: Bool) {
        var head = Self.nioResponseHead(response.head)
        head.headers.replaceOrAdd(name: "content-length", value: String(response.body.readableBytes))
        if !keepAlive { head.headers.replaceOrAdd(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if response.body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        guard keepAlive else {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
            return
        }
        state = .idle
        limitHandler.requestCompleted()
        armTimeout(context: context)
        // RFC 9112 §9.3.2: pipelined requests that arrived meanwhile are handled now, part by part,
        // until the next complete one is being served (a request's head alone leaves `.receiving`).
        while !queued.isEmpty, !isServing {
            handle(queued.removeFirst(), context: context)
        }
    }

    /// Whether a request is being answered or the connection was upgraded: parts wait in `queued`.
    private var isServing: Bool {
        switch state {
        case .busy, .upgraded: return true
        case .idle, .receiving, .bodyTooLarge: return false
        }
    }

    private func respondAndClose(context: ChannelHandlerContext, status: HTTPResponse.Status, headers: HTTPFields = HTTPFields(), text: String) {
        respond(context: context, HTTPServerResponse(status: status, headers: headers, body: ByteBuffer(string: text)), keepAlive: false)
    }

    private func armTimeout(context: ChannelHandlerContext) {
        timeout?.cancel()
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let logger = server.logger
        // Slowloris protection: the whole request head must arrive within the handshake timeout.
        timeout = context.eventLoop.scheduleTask(in: TimeAmount(server.configuration.handshakeTimeout)) {
            logger.debug("closing an HTTP connection: request not received in time")
            bound.value.close(promise: nil)
        }
    }

    // MARK: - Upgrade

    private func upgrade(head: HTTPRequestHead, request: HTTPRequest, context: ChannelHandlerContext) {
        let configuration = server.configuration
        let path = HTTPServerRequest(head: request, body: ByteBuffer()).path
        guard let route = server.router.webSocketRoute(for: path) else {
            if server.router.httpResponder(for: path) != nil {
                serveHTTP(request, body: ByteBuffer(), keepAlive: false, context: context)
            } else {
                rejectUpgrade(context: context, status: .notFound, text: "Not Found")
            }
            return
        }
        let validated: ServerHandshake.ValidatedRequest
        switch ServerHandshake.validate(method: request.method, isHTTP11OrLater: head.version.major > 1 || (head.version.major == 1 && head.version.minor >= 1), headers: request.headerFields) {
        case .failure(let rejection):
            server.logger.debug("rejecting upgrade", metadata: ["reason": "\(rejection.error.message)"])
            rejectUpgrade(context: context, status: rejection.status, headers: rejection.headers, text: rejection.error.message)
            return
        case .success(let request):
            validated = request
        }
        guard configuration.origins.isAllowed(validated.origin) else {
            server.logger.debug("rejecting upgrade: origin not allowed", metadata: ["origin": "\(validated.origin ?? "-")"])
            rejectUpgrade(context: context, status: .forbidden, text: "Origin not allowed")
            return
        }
        let upgradeRequest = WebSocketUpgradeRequest(
            head: request,
            offeredSubprotocols: validated.offeredSubprotocols,
            remoteAddress: context.channel.remoteAddress
        )
        let promise = context.eventLoop.makePromise(of: WebSocketUpgradeDecision.self)
        promise.completeWithTask { await route.shouldUpgrade(upgradeRequest) }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        promise.futureResult.whenSuccess { decision in
            let (handler, context) = bound.value
            guard context.channel.isActive else { return }
            switch decision.kind {
            case .reject(let response):
                handler.server.metrics.handshakeRejected(status: response.head.status.code)
                handler.respond(context: context, response, keepAlive: false)
            case .passThrough:
                handler.serveHTTP(request, body: ByteBuffer(), keepAlive: false, context: context)
            case .accept(let subprotocol, let headers, let compression):
                handler.accept(
                    validated,
                    request: request,
                    subprotocol: subprotocol,
                    extraHeaders: headers,
                    compression: compression,
                    route: route,
                    context: context
                )
            }
        }
    }

    /// Refuses a WebSocket opening handshake and counts the refusal.
    private func rejectUpgrade(
        context: ChannelHandlerContext,
        status: HTTPResponse.Status,
        headers: HTTPFields = HTTPFields(),
        text: String
    ) {
        server.metrics.handshakeRejected(status: status.code)
        respondAndClose(context: context, status: status, headers: headers, text: text)
    }

    private func accept(
        _ validated: ServerHandshake.ValidatedRequest,
        request: HTTPRequest,
        subprotocol chosen: String??,
        extraHeaders: HTTPFields,
        compression: Bool,
        route: WebSocketRouter.WebSocketRoute,
        context: ChannelHandlerContext
    ) {
        let configuration = server.configuration
        let subprotocol: String? =
            chosen ?? validated.offeredSubprotocols.first { configuration.subprotocols.contains($0) }
        var deflate: PerMessageDeflate?
        var extensionsHeader: String?
        if compression, let deflateConfiguration = configuration.compression, !validated.extensionOffers.isEmpty {
            do {
                if let (response, parameters) = try PerMessageDeflateNegotiation.serverNegotiate(
                    offerValues: validated.extensionOffers,
                    configuration: deflateConfiguration
                ) {
                    deflate = try PerMessageDeflate(parameters: parameters, isClient: false, configuration: deflateConfiguration)
                    extensionsHeader = response
                }
            } catch {
                rejectUpgrade(context: context, status: .badRequest, text: error.message)
                return
            }
        }
        var fields = ServerHandshake.acceptHeaders(key: validated.key, subprotocol: subprotocol, extensions: extensionsHeader)
        fields.append(contentsOf: extraHeaders)
        let response = HTTPResponse(status: .switchingProtocols, headerFields: fields)
        context.write(wrapOutboundOut(.head(Self.nioResponseHead(response))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        state = .upgraded

        let logger = server.logger
        let shared = ConnectionSharedState()
        let machineConfiguration = ConnectionStateMachine.Configuration(
            role: .server,
            limits: configuration.limits,
            keepAlive: configuration.keepAlive,
            closeTimeout: configuration.closeTimeout,
            validatesUTF8: configuration.validatesUTF8,
            deflate: deflate
        )
        do {
            // Order matters: the WebSocket handler must be in place before the HTTP decoder is
            // removed, because the decoder forwards any bytes it buffered past the request.
            let pipeline = context.pipeline.syncOperations
            pipeline.removeHandler(name: encoderName, promise: nil)
            if let onMessage = route.onMessage {
                // Event-loop handler: no async channel, no task.
                try pipeline.addHandler(
                    WebSocketConnectionHandler(
                        configuration: machineConfiguration,
                        shared: shared,
                        logger: logger,
                        metrics: server.metrics,
                        onMessage: onMessage
                    ),
                    position: .after(self)
                )
                pipeline.removeHandler(self, promise: nil)
                pipeline.removeHandler(name: decoderName, promise: nil)
                pipeline.removeHandler(limitHandler, promise: nil)
                server.upgradedOnLoop(context.channel)
                logger.debug("WebSocket accepted", metadata: ["path": "\(request.path ?? "/")", "handler": "event loop"])
                return
            }
            try pipeline.addHandler(
                WebSocketConnectionHandler(configuration: machineConfiguration, shared: shared, logger: logger, metrics: server.metrics),
                position: .after(self)
            )
            let asyncChannel = try NIOAsyncChannel<WebSocketMessage, WebSocketOutbound>(
                wrappingChannelSynchronously: context.channel,
                configuration: .init(backPressureStrategy: .init(lowWatermark: 2, highWatermark: 16))
            )
            let accepted = AcceptedConnection(
                asyncChannel: asyncChannel,
                shared: shared,
                request: request,
                response: response,
                subprotocol: subprotocol,
                extensions: extensionsHeader,
                handler: route.handler
            )
            pipeline.removeHandler(self, promise: nil)
            pipeline.removeHandler(name: decoderName, promise: nil)
            pipeline.removeHandler(limitHandler, promise: nil)
            // Frames the decoder forwarded reach the application on read-complete (NIOAsyncChannel).
            context.channel.pipeline.fireChannelReadComplete()
            logger.debug("WebSocket accepted", metadata: ["path": "\(request.path ?? "/")", "subprotocol": "\(subprotocol ?? "-")", "extensions": "\(extensionsHeader ?? "-")"])
            server.accepted(accepted)
        } catch {
            logger.debug("could not install the WebSocket handler", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    // MARK: - Conversions between NIOHTTP1 and HTTPTypes

    static func httpRequest(_ head: HTTPRequestHead) -> HTTPRequest {
        var fields = HTTPFields()
        fields.reserveCapacity(head.headers.count)
        for (name, value) in head.headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        return HTTPRequest(
            method: HTTPRequest.Method(head.method.rawValue) ?? .get,
            scheme: nil,
            authority: head.headers.first(name: "host"),
            path: head.uri,
            headerFields: fields
        )
    }

    static func nioResponseHead(_ response: HTTPResponse) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(response.headerFields.count)
        for field in response.headerFields { headers.add(name: field.name.rawName, value: field.value) }
        return HTTPResponseHead(
            version: .http1_1,
            status: HTTPResponseStatus(statusCode: response.status.code, reasonPhrase: response.status.reasonPhrase),
            headers: headers
        )
    }
}

/// An upgraded connection on its way from the event loop to the server's task group.
struct AcceptedConnection: Sendable {
    var asyncChannel: NIOAsyncChannel<WebSocketMessage, WebSocketOutbound>
    var shared: ConnectionSharedState
    var request: HTTPRequest
    var response: HTTPResponse
    var subprotocol: String?
    var extensions: String?
    var handler: WebSocketRouter.ConnectionHandler
}
