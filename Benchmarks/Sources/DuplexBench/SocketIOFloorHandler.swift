import NIOCore
import NIOWebSocket

/// One client of `duplex-bench nio-sio`: just enough Engine.IO v4 and Socket.IO v5 for
/// `sio-load` (open packet, CONNECT to `/`, `message` → `message-back`, `broadcast` to all), with
/// nothing that a real server needs and the benchmark does not (no pings, no parsing of the
/// event's arguments, no acknowledgements, no other namespace).
final class SocketIOFloorHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private static let connectPrefix = Array("40".utf8)
    private static let messagePrefix = Array(#"42["message","#.utf8)
    private static let messageBackPrefix = #"42["message-back","#
    private static let broadcastPrefix = Array(#"42["broadcast","#.utf8)

    /// Its index in its event loop's members while it has joined `/`.
    var memberIndex: Int?
    private let namespace: FloorNamespace
    private let sid: String
    private var context: ChannelHandlerContext?
    private var control = ControlFrameResponder()

    init(namespace: FloorNamespace, sid: String) {
        self.namespace = namespace
        self.sid = sid
    }

    /// Writes and flushes `frame`; on this channel's event loop.
    func send(_ frame: WebSocketFrame) {
        self.context?.writeAndFlush(Self.wrapOutboundOut(frame), promise: nil)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // engine.io-protocol v4, "Handshake": the open packet is the first message.
        let open = #"0{"sid":"\#(self.sid)","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
        self.sendText(open, context: context)
        context.flush()
    }

    /// Also when the channel closes: NIO removes every handler then.
    func handlerRemoved(context: ChannelHandlerContext) {
        self.namespace.leave(self, on: context.eventLoop)
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        guard frame.opcode == .text else {
            self.control.respond(to: frame, context: context)
            return
        }
        let text = ControlFrameResponder.unmaskedPayload(of: frame, allocator: context.channel.allocator)
        let view = text.readableBytesView
        if view.starts(with: Self.broadcastPrefix) {
            self.namespace.broadcast(WebSocketFrame(fin: true, opcode: .text, data: text), from: context.eventLoop)
        } else if view.starts(with: Self.messagePrefix) {
            var reply = context.channel.allocator.buffer(capacity: text.readableBytes + 5)
            reply.writeString(Self.messageBackPrefix)
            reply.writeBytes(view.dropFirst(Self.messagePrefix.count))
            context.write(Self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: reply)), promise: nil)
        } else if view.starts(with: Self.connectPrefix), self.memberIndex == nil {
            // socket.io-protocol v5, "Connection to a namespace": CONNECT `40` answered `40{"sid":…}`.
            self.sendText(#"40{"sid":"\#(self.sid)"}"#, context: context)
            self.namespace.join(self, on: context.eventLoop)
        }
        // Anything else (the pong `3`) needs no answer.
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    private func sendText(_ text: String, context: ChannelHandlerContext) {
        let payload = context.channel.allocator.buffer(string: text)
        context.write(Self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: payload)), promise: nil)
    }
}
