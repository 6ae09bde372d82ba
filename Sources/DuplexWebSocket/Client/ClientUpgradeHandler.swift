import DuplexWebSocketCore
import HTTPTypes
import NIOCore

/// Sends the opening handshake request and reads the response head with the core's
/// ``HTTPResponseHeadParser``, so that every way a server can fail becomes one documented code.
final class ClientUpgradeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The response head, and any bytes that followed it in the same read (the first frames).
    struct Result: Sendable {
        var response: HTTPResponse
        var leftover: ByteBuffer
    }

    private let request: ByteBuffer
    private let promise: EventLoopPromise<Result>
    private var parser: HTTPResponseHeadParser
    private var buffer = ByteBuffer()
    private var done = false

    init(request: ByteBuffer, parser: HTTPResponseHeadParser, promise: EventLoopPromise<Result>) {
        self.request = request
        self.parser = parser
        self.promise = promise
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { sendRequest(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        sendRequest(context: context)
        context.fireChannelActive()
    }

    private var sent = false
    private func sendRequest(context: ChannelHandlerContext) {
        guard !sent else { return }
        sent = true
        context.writeAndFlush(wrapOutboundOut(request), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        var bytes = unwrapInboundIn(data)
        buffer.writeBuffer(&bytes)
        do {
            if let response = try parser.parse(&buffer) {
                done = true
                promise.succeed(Result(response: response, leftover: buffer))
            }
        } catch {
            done = true
            promise.fail(error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            promise.fail(parser.endOfInput(buffered: buffer))
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !done {
            done = true
            promise.fail(WebSocketError.translating(error, during: "the opening handshake"))
        }
        context.close(promise: nil)
    }
}
