import NIOCore

/// Bounds the bytes a client may send before its request head is complete, so an oversized or
/// endless head (slowloris with ever more headers) gets 431 instead of growing the parser's
/// buffer. Sits in front of the HTTP decoder and only counts bytes.
final class HTTPHeadLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let maxHeadSize: Int
    private var counted = 0
    private var awaitingHead = true
    /// The last bytes seen, to find a "\r\n\r\n" split across reads.
    private var tail: UInt32 = 0

    init(maxHeadSize: Int) { self.maxHeadSize = maxHeadSize }

    /// The HTTP handler finished a request: the next bytes start a new head.
    func requestCompleted() {
        awaitingHead = true
        counted = 0
        tail = 0
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if awaitingHead {
            let buffer = unwrapInboundIn(data)
            for byte in buffer.readableBytesView {
                counted += 1
                tail = (tail << 8) | UInt32(byte)
                if tail == 0x0D0A_0D0A {  // "\r\n\r\n" (RFC 9112 §2.1)
                    awaitingHead = false
                    break
                }
                if counted > maxHeadSize {
                    rejectTooLarge(context: context)
                    return
                }
            }
        }
        context.fireChannelRead(data)
    }

    private func rejectTooLarge(context: ChannelHandlerContext) {
        // RFC 6585 §5: 431 Request Header Fields Too Large.
        let response = "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        awaitingHead = false
        let channel = context.channel
        context.writeAndFlush(wrapInboundOut(ByteBuffer(string: response))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
