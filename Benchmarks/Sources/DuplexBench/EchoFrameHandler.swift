import NIOCore
import NIOWebSocket

/// Echoes every WebSocket message with its own opcode, answers pings and echoes the close
/// frame: the work that any WebSocket server on SwiftNIO does per message, with nothing added.
///
/// It sits after `NIOWebSocketFrameAggregator`, so every data frame it sees is a whole message.
final class EchoFrameHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private var control = ControlFrameResponder()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        switch frame.opcode {
        case .binary, .text:
            let payload = ControlFrameResponder.unmaskedPayload(of: frame, allocator: context.channel.allocator)
            context.write(Self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: frame.opcode, data: payload)), promise: nil)
        default:
            // Pongs need no answer; continuations never get past the aggregator, and the decoder
            // rejects reserved opcodes itself.
            self.control.respond(to: frame, context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}
