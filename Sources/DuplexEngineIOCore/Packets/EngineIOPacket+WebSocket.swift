import NIOCore

// WebSocket transport codec (protocol.md 4.1.5, 4.1.9):
//
//   text message    `<digit><data>`; also `b<base64>` (v4, clients with forceBase64) or
//                   `b<digit><base64>` (v3)
//   binary message  v4: the raw bytes of a `message` packet
//                   v3: one type byte (0x04 for message), then the bytes
extension EngineIOPacket {
    /// Decodes the packet carried by one WebSocket message.
    ///
    /// - Throws: ``EngineIOError/Code/invalidPacket`` for an empty text message, an unknown type,
    ///   bad base64, or (v3) an empty binary message or a bad type byte.
    public init(webSocketFrame frame: EngineIOWebSocketFrame, protocolVersion: EngineIOProtocolVersion = .v4)
        throws(EngineIOError)
    {
        switch frame {
        case .text(let text):
            self = try EngineIOPacket.decodeText(text, protocolVersion: protocolVersion)
        case .binary(var bytes):
            guard protocolVersion == .v3 else {
                // engine.io-protocol v4: "binary payloads are sent as is".
                self = EngineIOPacket(.message, .binary(bytes))
                return
            }
            // engine.io-protocol v3: the first byte is the packet type (not an ASCII digit).
            guard let typeByte = bytes.readInteger(as: UInt8.self), let type = EngineIOPacketType(rawValue: typeByte)
            else {
                throw EngineIOError(.invalidPacket, "Binary v3 message without a valid type byte")
            }
            self = EngineIOPacket(type, .binary(bytes))
        }
    }

    /// Encodes this packet as one WebSocket message.
    public func webSocketFrame(protocolVersion: EngineIOProtocolVersion = .v4) -> EngineIOWebSocketFrame {
        switch data {
        case .text:
            return .text(encodedText(protocolVersion: protocolVersion))
        case .binary(let bytes):
            guard protocolVersion == .v3 else { return .binary(bytes) }
            var framed = ByteBuffer()
            framed.reserveCapacity(1 + bytes.readableBytes)
            framed.writeInteger(type.rawValue)
            framed.writeImmutableBuffer(bytes)
            return .binary(framed)
        }
    }
}
