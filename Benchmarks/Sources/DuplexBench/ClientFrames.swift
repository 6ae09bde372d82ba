import NIOCore
import NIOWebSocket

/// Everything a load connection writes, encoded once per measurement so that sending a message
/// is writing a shared buffer: no allocation, masking or encoding per message.
struct ClientFrames: Sendable {
    /// RFC 6455 §1.3's sample key. Every connection sends it, so the response's accept value is
    /// known in advance and checked without a SHA-1 implementation; servers cannot tell.
    static let handshakeKey = "dGhlIHNhbXBsZSBub25jZQ=="
    /// RFC 6455 §1.3: base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")) for that key.
    static let expectedAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

    /// The opening handshake request, RFC 6455 §4.1.
    let upgradeRequest: ByteBuffer
    /// One binary message, masked, header included.
    let message: ByteBuffer
    /// The message's payload as the server must echo it back.
    let expectedPayload: ByteBuffer
    /// A close frame with status 1000 (RFC 6455 §7.4.1, normal closure), masked.
    let close: ByteBuffer

    init(host: String, port: Int, payloadSize: Int, allocator: ByteBufferAllocator) {
        self.upgradeRequest = Self.upgradeRequest(host: host, port: port, target: "/", allocator: allocator)

        var payload = allocator.buffer(capacity: payloadSize)
        // Not all zeroes, so that a server that forgets to unmask is caught by the content check.
        payload.writeBytes((0..<payloadSize).lazy.map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        self.expectedPayload = payload
        self.message = Self.maskedFrame(opcode: .binary, payload: payload, allocator: allocator)

        self.close = Self.closeFrame(allocator: allocator)
    }

    /// A close frame with status 1000 (RFC 6455 §7.4.1, normal closure), masked.
    static func closeFrame(allocator: ByteBufferAllocator) -> ByteBuffer {
        var status = allocator.buffer(capacity: 2)
        status.writeInteger(UInt16(1000))
        return Self.maskedFrame(opcode: .connectionClose, payload: status, allocator: allocator)
    }

    /// The opening handshake request for `target` (path and query), RFC 6455 §4.1.
    static func upgradeRequest(host: String, port: Int, target: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        var request = allocator.buffer(capacity: 256)
        request.writeString(
            "GET \(target) HTTP/1.1\r\n"
                + "Host: \(host):\(port)\r\n"
                + "Upgrade: websocket\r\n"
                + "Connection: Upgrade\r\n"
                + "Sec-WebSocket-Key: \(Self.handshakeKey)\r\n"
                + "Sec-WebSocket-Version: 13\r\n"
                + "\r\n"
        )
        return request
    }

    /// A single-frame message from the client, RFC 6455 §5.2, masked as §5.3 requires of clients.
    ///
    /// The key is random per encoded frame but reused for every send of it: §5.3's fresh key per
    /// frame defends intermediaries against cache poisoning, which cannot happen on loopback,
    /// while the server's unmasking work is the same for any key.
    static func maskedFrame(opcode: WebSocketOpcode, payload: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        let key = WebSocketMaskingKey.random()
        let length = payload.readableBytes
        var frame = allocator.buffer(capacity: 14 + length)
        frame.writeInteger(0x80 | UInt8(webSocketOpcode: opcode))  // FIN, no RSV bits
        switch length {
        case 0...125:
            frame.writeInteger(0x80 | UInt8(length))
        case 126...Int(UInt16.max):
            frame.writeInteger(UInt8(0x80 | 126))
            frame.writeInteger(UInt16(length))
        default:
            frame.writeInteger(UInt8(0x80 | 127))
            frame.writeInteger(UInt64(length))
        }
        frame.writeBytes(key)
        var masked = payload
        masked.webSocketMask(key)
        frame.writeBuffer(&masked)
        return frame
    }
}
