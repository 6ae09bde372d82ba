import DuplexWebSocketCore
import Logging
import NIOCore

/// Runs a ``ConnectionStateMachine`` on a channel: feeds it bytes, writes, timers and the end of
/// the transport, and executes its actions. It does nothing else, so pongs, close echoes and
/// keepalive pings go out whether or not the application is reading.
final class WebSocketConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = WebSocketMessage
    typealias OutboundIn = WebSocketOutbound
    typealias OutboundOut = ByteBuffer

    private var machine: ConnectionStateMachine
    private let shared: ConnectionSharedState
    private let logger: Logger
    private let metrics: WebSocketMetrics
    /// Whether ``WebSocketMetrics/connectionOpened()`` was recorded and its close is still due.
    private var isCountedOpen = false
    /// The keepalive latency last recorded, to record each measurement once.
    private var recordedLatency: Duration?
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private var pingWaiters: [(payload: ByteBuffer, promise: EventLoopPromise<Void>)] = []

    /// Messages go to this closure on the event loop instead of down the pipeline
    /// (``WebSocketRouter/webSocket(_:shouldUpgrade:onMessage:)``).
    private let onMessage: WebSocketRouter.MessageHandler?
    private var isDraining = false

    init(
        configuration: ConnectionStateMachine.Configuration,
        shared: ConnectionSharedState,
        logger: Logger,
        metrics: WebSocketMetrics,
        onMessage: WebSocketRouter.MessageHandler? = nil
    ) {
        self.machine = ConnectionStateMachine(configuration: configuration, now: .now())
        self.shared = shared
        self.logger = logger
        self.metrics = metrics
        self.onMessage = onMessage
    }

    /// A send from a ``WebSocketLoopConnection``, on the event loop.
    func sendFromLoop(_ outbound: WebSocketOutbound, context: ChannelHandlerContext) throws(WebSocketError) {
        switch outbound {
        case .message(let message):
            try machine.sendRequested(message)
            metrics.sent(size: message.data.readableBytes, completesMessage: true)
        case .close(let code, let reason):
            try machine.closeRequested(code: code, reason: reason, now: .now())
            shared.markClosing()
        case .fragment(let kind, let payload, let isFinal):
            try machine.sendFragmentRequested(kind: kind, payload, isFinal: isFinal)
            metrics.sent(size: payload.readableBytes, completesMessage: isFinal)
        case .ping(let payload):
            try machine.pingRequested(payload)
        }
        // Inside a drain the new actions are picked up by its loop, in order.
        if !isDraining { drain(context) }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if onMessage != nil {
            // Without an async consumer to suspend, backpressure is: stop reading while the peer
            // is not reading our replies.
            context.channel.setOption(.autoRead, value: context.channel.isWritable).whenFailure { _ in }
        }
        context.fireChannelWritabilityChanged()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        isCountedOpen = true
        metrics.connectionOpened()
        drain(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        // The channel went away without the machine reporting the end (it was removed before
        // channelInactive reached it): keep the active count balanced.
        if isCountedOpen {
            isCountedOpen = false
            metrics.connectionClosed(nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        machine.bytesReceived(unwrapInboundIn(data), now: .now())
        drain(context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        machine.transportClosed()
        drain(context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A transport error (reset, TLS failure) ends the connection; channelInactive reports it.
        logger.debug("transport error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        do {
            switch unwrapOutboundIn(data) {
            case .message(let message):
                shared.dequeue(message.data.readableBytes)
                try machine.sendRequested(message)
                metrics.sent(size: message.data.readableBytes, completesMessage: true)
            case .fragment(let kind, let payload, let isFinal):
                shared.dequeue(payload.readableBytes)
                try machine.sendFragmentRequested(kind: kind, payload, isFinal: isFinal)
                metrics.sent(size: payload.readableBytes, completesMessage: isFinal)
            case .ping(let payload):
                try machine.pingRequested(payload)
                if let promise {
                    pingWaiters.append((payload, promise))
                    drain(context, flush: false)
                    return
                }
            case .close(let code, let reason):
                try machine.closeRequested(code: code, reason: reason, now: .now())
                shared.markClosing()
            }
        } catch {
            promise?.fail(error)
            return
        }
        drain(context, flush: false, writePromise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        context.flush()
    }

    private func drain(_ context: ChannelHandlerContext, flush: Bool = true, writePromise: EventLoopPromise<Void>? = nil) {
        isDraining = true
        defer { isDraining = false }
        var wrote = false
        var lastWrite: EventLoopFuture<Void>?
        while let action = machine.nextAction() {
            switch action {
            case .write(let bytes):
                wrote = true
                // A future only when a caller waits for the write: most writes have none.
                if writePromise != nil {
                    lastWrite = context.write(wrapOutboundOut(bytes))
                } else {
                    context.write(wrapOutboundOut(bytes), promise: nil)
                }
            case .deliver(let message):
                metrics.messageReceived(size: message.data.readableBytes)
                if let onMessage {
                    onMessage(message, WebSocketLoopConnection(handler: self, context: context))
                } else {
                    context.fireChannelRead(wrapInboundOut(message))
                }
            case .pongReceived(let payload):
                shared.setLatency(machine.lastPingLatency)
                // The machine updates the latency only for the pong of its keepalive ping; two
                // measurements equal to the nanosecond are not worth telling apart.
                if let latency = machine.lastPingLatency, latency != recordedLatency {
                    recordedLatency = latency
                    metrics.pingAnswered(after: latency)
                }
                if let index = pingWaiters.firstIndex(where: { $0.payload == payload }) {
                    // RFC 6455 §5.5.3: a pong acknowledges its ping and every earlier one.
                    for waiter in pingWaiters[...index] { waiter.promise.succeed() }
                    pingWaiters.removeSubrange(...index)
                }
            case .closeTransport:
                if wrote { context.flush() }
                context.close(promise: nil)
            case .scheduleTimer(let deadline):
                scheduleTimer(at: deadline, context: context)
            case .failed(let error):
                shared.markClosing()
                logger.debug("failing the connection", metadata: ["error": "\(error.code)", "reason": "\(error.message)"])
            case .closed(let info, let error):
                timer?.cancel()
                timer = nil
                shared.finish(info, error: error)
                if isCountedOpen {
                    isCountedOpen = false
                    metrics.connectionClosed(info)
                }
                let failure = error ?? WebSocketError(.connectionClosed, "connection closed", closeInfo: info)
                for waiter in pingWaiters { waiter.promise.fail(failure) }
                pingWaiters.removeAll()
                logger.debug("connection closed", metadata: ["close": "\(info)"])
                if let error { context.fireErrorCaught(error) }
            }
        }
        if let writePromise {
            if let lastWrite { lastWrite.cascade(to: writePromise) } else { writePromise.succeed() }
        }
        if flush && wrote { context.flush() }
        keepReadingWhileClosing(context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
        keepReadingWhileClosing(context)
    }

    /// Once closing has started, reads go on whatever the application does: the async consumer's
    /// backpressure withholds reads (for good once its iterator is gone, e.g. after the body or
    /// handler returned), and the closing handshake needs the peer's close frame, its TCP close,
    /// or, over TLS, its close_notify. This handler sits before the consumer, so its read request
    /// reaches the socket.
    private func keepReadingWhileClosing(_ context: ChannelHandlerContext) {
        if !machine.canSend && !machine.isClosed { context.read() }
    }

    private func scheduleTimer(at deadline: NIODeadline, context: ChannelHandlerContext) {
        if timerDeadline == deadline, timer != nil { return }
        timer?.cancel()
        timerDeadline = deadline
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.timer = nil
            handler.timerDeadline = nil
            handler.machine.timerFired(now: .now())
            handler.drain(context)
        }
    }
}
