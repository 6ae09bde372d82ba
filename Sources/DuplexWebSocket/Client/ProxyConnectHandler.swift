import DuplexWebSocketCore
import HTTPTypes
import NIOCore

/// Opens a tunnel through an HTTP proxy with `CONNECT host:port` (RFC 9110 §9.3.6) before TLS
/// and the WebSocket handshake run inside it.
final class ProxyConnectHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let target: String
    private let authorization: String?
    private let promise: EventLoopPromise<Void>
    private var parser = HTTPResponseHeadParser()
    private var buffer = ByteBuffer()
    private var done = false

    init(targetHost: String, targetPort: Int, authorization: String?, promise: EventLoopPromise<Void>) {
        let host = targetHost.contains(":") ? "[\(targetHost)]" : targetHost
        self.target = "\(host):\(targetPort)"
        self.authorization = authorization
        self.promise = promise
    }

    func handlerAdded(context: ChannelHandlerContext) {
        guard context.channel.isActive else {
            done = true
            promise.fail(WebSocketError(.proxyFailed, "proxy closed the connection before CONNECT"))
            return
        }
        var request = "CONNECT \(target) HTTP/1.1\r\nHost: \(target)\r\n"
        if let authorization { request += "Proxy-Authorization: \(authorization)\r\n" }
        request += "\r\n"
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: request)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else {
            context.fireChannelRead(data)
            return
        }
        var bytes = unwrapInboundIn(data)
        buffer.writeBuffer(&bytes)
        do {
            guard let response = try parser.parse(&buffer) else { return }
            done = true
            guard (200..<300).contains(response.status.code) else {
                promise.fail(WebSocketError(.proxyFailed, "proxy answered CONNECT with \(response.status.code)", response: response))
                context.close(promise: nil)
                return
            }
            promise.succeed(())
            if buffer.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(buffer)) }
        } catch {
            done = true
            promise.fail(WebSocketError(.proxyFailed, "invalid response to CONNECT", cause: error))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            promise.fail(WebSocketError(.proxyFailed, "proxy closed the connection during CONNECT", cause: EndOfStream()))
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !done {
            done = true
            promise.fail(WebSocketError(.proxyFailed, "proxy connection failed", cause: error))
        }
        context.close(promise: nil)
    }
}
