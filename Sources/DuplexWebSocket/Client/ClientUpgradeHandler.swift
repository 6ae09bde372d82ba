import DuplexWebSocketCore
import HTTPTypes
import NIOCore

/// Sends the opening handshake request and reads the response head with the core's
/// ``HTTPResponseHeadParser``, so that every way a server can fail becomes one documented code.
final class ClientUpgradeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The response head. Bytes that follow a 101 (the first frames) stay buffered here and are
    /// passed on to the next handler when this one is removed.
    struct Result: Sendable {
        var response: HTTPResponse
        /// The start of the body of any other response, for ``WebSocketError/responseBody``.
        var body: [UInt8]?
    }

    /// The most body bytes of a rejection kept for ``WebSocketError/responseBody``.
    static let maxBodyPrefix = 4096

    private let request: ByteBuffer
    private let promise: EventLoopPromise<Result>
    private var parser: HTTPResponseHeadParser
    private var buffer = ByteBuffer()
    private var done = false
    /// A response other than 101 whose body (up to this many bytes) is still arriving.
    private var rejection: (response: HTTPResponse, bodyPrefix: Int)?

    init(request: ByteBuffer, parser: HTTPResponseHeadParser, promise: EventLoopPromise<Result>) {
        self.request = request
        self.parser = parser
        self.promise = promise
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            sendRequest(context: context)
        } else if !done {
            // The peer closed (or reset) between connect and now: no event will follow.
            done = true
            promise.fail(WebSocketError.peerClosed(during: "the opening handshake", cause: EndOfStream()))
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        sendRequest(context: context)
        context.fireChannelActive()
    }

    /// The write of the request: a reset peer often shows up only as its failure (which NIO
    /// reports after channelInactive), while the read side sees a plain end of stream.
    private var requestWritten: EventLoopFuture<Void>?

    private func sendRequest(context: ChannelHandlerContext) {
        guard requestWritten == nil else { return }
        requestWritten = context.writeAndFlush(wrapOutboundOut(request))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        buffer.writeBuffer(&bytes)
        if let rejection {
            if buffer.readableBytes >= rejection.bodyPrefix { completeRejection() }
            return
        }
        // After the head, frames can arrive before the pipeline switches to the WebSocket handler:
        // keep them for it.
        guard !done else { return }
        do {
            if let response = try parser.parse(&buffer) {
                if response.status.code != 101 {
                    // RFC 9112 §6.3: a Content-Length body; without one, none is read.
                    let length = response.headerFields[.contentLength].flatMap { Int($0) } ?? 0
                    rejection = (response, min(max(length, 0), Self.maxBodyPrefix))
                    if buffer.readableBytes >= rejection?.bodyPrefix ?? 0 { completeRejection() }
                    return
                }
                done = true
                promise.succeed(Result(response: response))
            }
        } catch {
            done = true
            promise.fail(error)
            context.close(promise: nil)
        }
    }

    func removeHandler(context: ChannelHandlerContext, removalToken: ChannelHandlerContext.RemovalToken) {
        if done && buffer.readableBytes > 0 {
            let leftover = buffer
            buffer = ByteBuffer()
            context.fireChannelRead(wrapInboundOut(leftover))
            // NIOAsyncChannel hands reads to the application on read-complete.
            context.fireChannelReadComplete()
        }
        context.leavePipeline(removalToken: removalToken)
    }

    /// Succeeds with the rejection and the body bytes that arrived (all of the prefix, or what
    /// came before the connection ended).
    private func completeRejection() {
        guard let rejection else { return }
        self.rejection = nil
        done = true
        let body = buffer.readBytes(length: min(rejection.bodyPrefix, buffer.readableBytes)) ?? []
        promise.succeed(Result(response: rejection.response, body: rejection.bodyPrefix > 0 ? body : nil))
    }

    func channelInactive(context: ChannelHandlerContext) {
        completeRejection()
        if !done {
            done = true
            let endOfInput = parser.endOfInput(buffered: buffer)
            let promise = self.promise
            if let requestWritten, buffer.readableBytes == 0 {
                requestWritten.whenComplete { result in
                    if case .failure(let error) = result {
                        promise.fail(WebSocketError.translating(error, during: "the opening handshake"))
                    } else {
                        promise.fail(endOfInput)
                    }
                }
            } else {
                promise.fail(endOfInput)
            }
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        completeRejection()
        if !done {
            done = true
            promise.fail(WebSocketError.translating(error, during: "the opening handshake"))
        }
        context.close(promise: nil)
    }
}
