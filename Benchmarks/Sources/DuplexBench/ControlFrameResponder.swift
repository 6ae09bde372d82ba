import NIOCore
import NIOWebSocket

/// The control-frame duties of the bare servers' handlers: pong every ping, echo the close frame
/// and close TCP.
struct ControlFrameResponder {
    private var closeSent = false

    /// Answers `frame` if it is a ping or a close; other frames (pongs) need no answer.
    mutating func respond(to frame: WebSocketFrame, context: ChannelHandlerContext) {
        switch frame.opcode {
        case .ping:
            // RFC 6455 §5.5.3: "A Pong frame sent in response to a Ping frame must have identical
            // 'Application data' as found in the message body of the Ping frame being replied to."
            let payload = Self.unmaskedPayload(of: frame, allocator: context.channel.allocator)
            context.write(NIOAny(WebSocketFrame(fin: true, opcode: .pong, data: payload)), promise: nil)
        case .connectionClose:
            self.echoClose(frame, context: context)
        default:
            break
        }
    }

    /// RFC 6455 §5.5.1: an endpoint that receives a Close frame and has not sent one "MUST send a
    /// Close frame in response", "typically echoing the status code it received"; §7.1.1: the
    /// server then closes the TCP connection first.
    private mutating func echoClose(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        guard !self.closeSent else {
            context.close(promise: nil)
            return
        }
        self.closeSent = true
        let payload = Self.unmaskedPayload(of: frame, allocator: context.channel.allocator)
        let closeFrame = WebSocketFrame(fin: true, opcode: .connectionClose, data: payload)
        context.writeAndFlush(NIOAny(closeFrame)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    /// The payload, unmasked into a buffer of its own. Frames assembled by the aggregator are
    /// already unmasked in a buffer of their own and are used as they are.
    ///
    /// `WebSocketFrameEncoder` writes the header as a separate buffer (a second iovec of the same
    /// writev): it can prepend it in place only to a uniquely referenced payload, which a payload
    /// held by a `WebSocketFrame` is not (strace shows two iovecs per frame). That is NIOWebSocket's
    /// cost, so it stays in the floor.
    static func unmaskedPayload(of frame: WebSocketFrame, allocator: ByteBufferAllocator) -> ByteBuffer {
        guard let key = frame.maskKey else {
            return frame.data
        }
        var payload = allocator.buffer(capacity: frame.data.readableBytes)
        payload.writeUnmasking(frame.data, key: key)
        return payload
    }
}
