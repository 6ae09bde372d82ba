import DuplexEngineIO
import DuplexWebSocketCore
import NIOCore
import NIOWebSocket
import Vapor

/// A Vapor (websocket-kit) WebSocket as ``EngineIOServer/accept(_:request:remoteAddress:)``
/// serves it: translation only.
///
/// websocket-kit delivers messages through callbacks, without backpressure; they are queued in
/// order for the server, which handles each at once (protocol.md 4.1.5: one packet per message).
struct VaporEngineIOWebSocket: EngineIOServerWebSocket {
    let webSocket: WebSocket
    let inbound: AsyncThrowingStream<EngineIOWebSocketFrame, any Error>

    /// Installs the callbacks; call it in Vapor's synchronous `onUpgrade`, before any message
    /// can arrive.
    init(_ webSocket: WebSocket) {
        let (inbound, continuation) = AsyncThrowingStream.makeStream(of: EngineIOWebSocketFrame.self)
        webSocket.onText { _, text in continuation.yield(.text(text)) }
        webSocket.onBinary { _, bytes in continuation.yield(.binary(bytes)) }
        webSocket.onClose.whenComplete { _ in continuation.finish() }
        self.webSocket = webSocket
        self.inbound = inbound
    }

    func send(_ frame: EngineIOWebSocketFrame) async throws {
        let promise = webSocket.eventLoop.makePromise(of: Void.self)
        switch frame {
        case .text(let text): webSocket.send(ByteBuffer(string: text), opcode: .text, fin: true, promise: promise)
        case .binary(let bytes): webSocket.send(bytes, opcode: .binary, fin: true, promise: promise)
        }
        // Completes once written to the socket: a slow peer makes the sender wait.
        try await promise.futureResult.get()
    }

    func close(code: CloseCode, reason: String) async throws {
        // websocket-kit sends no close reason.
        try await webSocket.close(code: WebSocketErrorCode(codeNumber: Int(code.rawValue))).get()
    }
}
