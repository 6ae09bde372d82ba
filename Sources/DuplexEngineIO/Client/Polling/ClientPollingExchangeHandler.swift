import NIOCore
import NIOHTTP1

/// Runs one HTTP exchange at a time on a keep-alive connection: writes the request of a
/// ``ClientPollingExchange``, collects the response, and completes the exchange's promise.
///
/// The promise is completed exactly once on every path: response, deadline, error, or the
/// connection closing. A failed exchange closes the connection, since it is no longer known
/// where the next response starts.
final class ClientPollingExchangeHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = ClientPollingExchange
    typealias OutboundOut = HTTPClientRequestPart

    private struct Pending {
        var promise: EventLoopPromise<ClientPollingResponse>
        var timeout: Scheduled<Void>
        var head: HTTPResponseHead?
        var body: ByteBuffer
    }

    private let maxBodySize: Int
    private var pending: Pending?

    init(maxBodySize: Int) {
        self.maxBodySize = maxBodySize
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        guard pending == nil else {
            exchange.promise.fail(ClientPollingFailure.concurrentRequest)
            promise?.fail(ClientPollingFailure.concurrentRequest)
            return
        }
        let timeout = context.eventLoop.assumeIsolated().scheduleTask(deadline: exchange.deadline) {
            self.fail(context: context, ClientPollingFailure.timedOut)
        }
        pending = Pending(promise: exchange.promise, timeout: timeout, head: nil, body: context.channel.allocator.buffer(capacity: 0))
        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        if let body = exchange.body, body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        written.futureResult.assumeIsolated().whenComplete { result in
            promise?.completeWith(result)
            if case .failure(let error) = result { self.fail(context: context, error) }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard var current = pending else {
            // A response nobody asked for: the connection is out of step.
            context.close(promise: nil)
            return
        }
        switch unwrapInboundIn(data) {
        case .head(let head):
            current.head = head
            pending = current
        case .body(var chunk):
            guard current.body.readableBytes + chunk.readableBytes <= maxBodySize else {
                fail(context: context, ClientPollingFailure.bodyTooLarge(limit: maxBodySize))
                return
            }
            pending = nil  // avoid a copy-on-write of the body while appending
            current.body.writeBuffer(&chunk)
            pending = current
        case .end:
            pending = nil
            current.timeout.cancel()
            guard let head = current.head else {
                current.promise.fail(ClientPollingFailure.closedBeforeResponse)
                context.close(promise: nil)
                return
            }
            current.promise.succeed(
                ClientPollingResponse(
                    status: Int(head.status.code),
                    headers: head.headers,
                    body: current.body,
                    isKeepAlive: head.isKeepAlive
                )
            )
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(context: context, ClientPollingFailure.closedBeforeResponse)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, error)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        fail(context: context, ClientPollingFailure.closedBeforeResponse)
    }

    private func fail(context: ChannelHandlerContext, _ error: any Error) {
        guard let current = pending else { return }
        pending = nil
        current.timeout.cancel()
        current.promise.fail(error)
        context.close(promise: nil)
    }
}
