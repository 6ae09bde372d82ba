import NIOCore
import NIOWebSocket

/// Everything a Socket.IO load connection writes, encoded once per measurement (masked
/// WebSocket text frames carrying Engine.IO packets), and the bytes it expects back.
///
/// Every connection joins the main namespace `/`, whose packets carry no namespace field
/// (socket.io-protocol v5, "Packet format"), so each frame is the same for all connections.
struct SocketIOFrames: Sendable {
    /// engine.io-protocol v4, "Transports": a WebSocket-only session starts with this request;
    /// the server's first message is the open packet.
    static let engineTarget = "/socket.io/?EIO=4&transport=websocket"
    /// socket.io-protocol v5: an EVENT packet (type 2) inside an Engine.IO message (type 4).
    static let echoPrefix = Array(#"42["message-back","#.utf8)
    static let broadcastPrefix = Array(#"42["broadcast","#.utf8)
    /// The characters payloads are made of: none needs escaping in a JSON string.
    private static let payloadAlphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)

    let upgradeRequest: ByteBuffer
    /// socket.io-protocol v5, "Connection to a namespace": CONNECT to `/` without payload.
    let namespaceConnect: ByteBuffer
    /// engine.io-protocol v4, "Heartbeat": the pong answering the server's ping `2`.
    let pong: ByteBuffer
    /// `42["message","<payload>"]`, the event `duplex sio-echo` answers with `message-back`.
    let message: ByteBuffer
    /// `42["message-back","<payload>"]` as the server must send it.
    let expectedEcho: ByteBuffer
    let close: ByteBuffer

    init(host: String, port: Int, payloadSize: Int, allocator: ByteBufferAllocator) {
        self.upgradeRequest = ClientFrames.upgradeRequest(host: host, port: port, target: Self.engineTarget, allocator: allocator)
        self.namespaceConnect = Self.textFrame("40", allocator: allocator)
        self.pong = Self.textFrame("3", allocator: allocator)
        let payload = String(
            decoding: (0..<payloadSize).lazy.map { Self.payloadAlphabet[$0 % Self.payloadAlphabet.count] },
            as: UTF8.self
        )
        self.message = Self.textFrame(#"42["message","\#(payload)"]"#, allocator: allocator)
        var echo = allocator.buffer(capacity: payloadSize + 24)
        echo.writeString(#"42["message-back","\#(payload)"]"#)
        self.expectedEcho = echo
        self.close = ClientFrames.closeFrame(allocator: allocator)
    }

    /// `42["broadcast",<sequence>]`: the event `duplex sio-echo` re-emits to the whole namespace.
    static func broadcast(sequence: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        Self.textFrame(#"42["broadcast",\#(sequence)]"#, allocator: allocator)
    }

    private static func textFrame(_ text: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        var payload = allocator.buffer(capacity: text.utf8.count)
        payload.writeString(text)
        return ClientFrames.maskedFrame(opcode: .text, payload: payload, allocator: allocator)
    }
}
