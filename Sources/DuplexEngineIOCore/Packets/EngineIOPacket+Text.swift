import NIOCore

// The text form of a packet, shared by WebSocket text messages and polling payloads:
//
//   <type digit><UTF-8 data>     e.g. `4hello`, `2probe`, `1`
//   b<base64>                    v4: a binary message (no type digit)
//   b<type digit><base64>        v3: a binary packet, e.g. `b4AQID`
//
// (engine.io-protocol v4, "Packet encoding"; protocol.md 4.1.4, 4.1.5, 4.1.9.)
extension EngineIOPacket {
    /// What the first bytes of a text packet announce.
    private struct TextHeader {
        var type: EngineIOPacketType
        var isBase64: Bool
        var length: Int
    }

    private static func parseTextHeader(
        _ bytes: UnsafeRawBufferPointer,
        protocolVersion: EngineIOProtocolVersion
    ) throws(EngineIOError) -> TextHeader {
        guard let first = bytes.first else {
            throw EngineIOError(.invalidPacket, "Empty packet")
        }
        if first == UInt8(ascii: "b") {
            if protocolVersion == .v3 {
                // engine.io-protocol v3: "b" then the type digit, then base64.
                guard bytes.count >= 2, let type = EngineIOPacketType(asciiDigit: bytes[1]) else {
                    throw EngineIOError(.invalidPacket, "Base64 packet without a valid type digit")
                }
                return TextHeader(type: type, isBase64: true, length: 2)
            }
            // engine.io-protocol v4: "b" + base64 is implicitly a message.
            return TextHeader(type: .message, isBase64: true, length: 1)
        }
        guard let type = EngineIOPacketType(asciiDigit: first) else {
            throw EngineIOError(.invalidPacket, "Unknown packet type byte 0x\(String(first, radix: 16))")
        }
        return TextHeader(type: type, isBase64: false, length: 1)
    }

    private static func decodeBase64(_ bytes: UnsafeRawBufferPointer) throws(EngineIOError) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(bytes.count / 4 * 3 + 2)
        guard Base64.decode(bytes, into: &buffer) else {
            throw EngineIOError(.invalidPacket, "Invalid base64 in binary packet")
        }
        return buffer
    }

    /// Decodes the text form of a packet from UTF-8 bytes, validating the UTF-8.
    static func decodeText(
        _ bytes: UnsafeRawBufferPointer,
        protocolVersion: EngineIOProtocolVersion
    ) throws(EngineIOError) -> EngineIOPacket {
        let header = try parseTextHeader(bytes, protocolVersion: protocolVersion)
        let body = UnsafeRawBufferPointer(rebasing: bytes[header.length...])
        if header.isBase64 {
            return EngineIOPacket(header.type, .binary(try decodeBase64(body)))
        }
        let text = body.withMemoryRebound(to: UInt8.self) { String(validating: $0, as: UTF8.self) }
        guard let text else {
            throw EngineIOError(.invalidPacket, "Text packet is not valid UTF-8")
        }
        return EngineIOPacket(header.type, .text(text))
    }

    /// Decodes the text form of a packet from an already-valid string (a WebSocket text message).
    static func decodeText(_ text: String, protocolVersion: EngineIOProtocolVersion) throws(EngineIOError)
        -> EngineIOPacket
    {
        var text = text
        let decoded = text.withUTF8 { utf8 in
            Result { () throws(EngineIOError) -> EngineIOPacket in
                let bytes = UnsafeRawBufferPointer(utf8)
                let header = try parseTextHeader(bytes, protocolVersion: protocolVersion)
                guard header.isBase64 else { return EngineIOPacket(header.type, .text("")) }
                let body = UnsafeRawBufferPointer(rebasing: bytes[header.length...])
                return EngineIOPacket(header.type, .binary(try decodeBase64(body)))
            }
        }
        var packet = try decoded.get()
        if case .text = packet.data, text.utf8.count > 1 {
            // The header is one ASCII byte, so dropping one scalar keeps the rest intact
            // (dropping a Character could swallow a combining mark).
            packet.data = .text(String(text.unicodeScalars.dropFirst()))
        }
        return packet
    }

    /// The number of UTF-8 bytes ``encodeText(into:protocolVersion:)`` writes.
    func encodedTextByteCount(protocolVersion: EngineIOProtocolVersion) -> Int {
        switch data {
        case .text(let text):
            return 1 + text.utf8.count
        case .binary(let bytes):
            return (protocolVersion == .v3 ? 2 : 1) + Base64.encodedLength(of: bytes.readableBytes)
        }
    }

    /// The number of UTF-16 code units of the text form, the v3 payload length prefix
    /// (protocol.md 4.1.9: length counts JS string characters).
    func encodedTextUTF16Count(protocolVersion: EngineIOProtocolVersion) -> Int {
        switch data {
        case .text(let text):
            return 1 + text.utf16.count
        case .binary:
            // Base64 is ASCII: one code unit per byte.
            return encodedTextByteCount(protocolVersion: protocolVersion)
        }
    }

    /// Appends the text form of this packet to `buffer`.
    func encodeText(into buffer: inout ByteBuffer, protocolVersion: EngineIOProtocolVersion) {
        switch data {
        case .text(let text):
            buffer.writeInteger(type.asciiDigit)
            buffer.writeString(text)
        case .binary(let bytes):
            buffer.writeInteger(UInt8(ascii: "b"))
            if protocolVersion == .v3 { buffer.writeInteger(type.asciiDigit) }
            Base64.encode(bytes, into: &buffer)
        }
    }

    /// The text form of this packet as a string.
    func encodedText(protocolVersion: EngineIOProtocolVersion) -> String {
        if case .text(let text) = data {
            var result = String(Character(Unicode.Scalar(type.asciiDigit)))
            result.reserveCapacity(1 + text.utf8.count)
            result.append(text)
            return result
        }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(encodedTextByteCount(protocolVersion: protocolVersion))
        encodeText(into: &buffer, protocolVersion: protocolVersion)
        return String(buffer: buffer)
    }
}
