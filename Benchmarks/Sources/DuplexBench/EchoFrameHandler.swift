import NIOCore
import NIOWebSocket

/// Echoes every WebSocket message with its own opcode, answers pings and echoes the close
/// frame: the work that any WebSocket server on SwiftNIO does per message, with nothing added.
///
/// It sits after `NIOWebSocketFrameAggregator`, so every data frame it sees is a whole message.
final class EchoFrameHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private var closeSent = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        switch frame.opcode {
        case .binary, .text:
            let payload = Self.unmaskedPayload(of: frame, allocator: context.channel.allocator)
            context.write(Self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: frame.opcode, data: payload)), promise: nil)
        case .ping:
            // RFC 6455 §5.5.3: "A Pong frame sent in response to a Ping frame must have identical
            // 'Application data' as found in the message body of the Ping frame being replied to."
            let payload = Self.unmaskedPayload(of: frame, allocator: context.channel.allocator)
            context.write(Self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: payload)), promise: nil)
        case .connectionClose:
            self.echoClose(frame, context: context)
        default:
            // Pongs need no answer; continuations never get past the aggregator, and the decoder
            // rejects reserved opcodes itself.
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    /// RFC 6455 §5.5.1: an endpoint that receives a Close frame and has not sent one "MUST send a
    /// Close frame in response", "typically echoing the status code it received"; §7.1.1: the
    /// server then closes the TCP connection first.
    private func echoClose(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        guard !self.closeSent else {
            context.close(promise: nil)
            return
        }
        self.closeSent = true
        let payload = Self.unmaskedPayload(of: frame, allocator: context.channel.allocator)
        let closeFrame = WebSocketFrame(fin: true, opcode: .connectionClose, data: payload)
        context.writeAndFlush(Self.wrapOutboundOut(closeFrame)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    /// The payload, unmasked into a buffer of its own. Frames assembled by the aggregator are
    /// already unmasked in a buffer of their own and are sent back as they are.
    ///
    /// `WebSocketFrameEncoder` writes the header as a separate buffer (a second iovec of the same
    /// writev): it can prepend it in place only to a uniquely referenced payload, which a payload
    /// held by a `WebSocketFrame` is not (strace shows two iovecs per frame). That is NIOWebSocket's
    /// cost, so it stays in the floor.
    private static func unmaskedPayload(of frame: WebSocketFrame, allocator: ByteBufferAllocator) -> ByteBuffer {
        guard let key = frame.maskKey else {
            return frame.data
        }
        var payload = allocator.buffer(capacity: frame.data.readableBytes)
        payload.writeUnmasking(frame.data, key: key)
        return payload
    }
}
