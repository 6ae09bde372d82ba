import NIOCore

/// engine.io-protocol v3 polling payloads (protocol.md 4.1.9). Two framings, told apart by the
/// first byte:
///
///   text:    <length>:<packet><length>:<packet>…
///            length in decimal, counting UTF-16 code units (JS string length) of the packet's
///            text form; binary packets are `b<type digit><base64>`, e.g. `6:b4AQID`.
///   binary:  (XHR2) per packet: 0x00 (text) or 0x01 (binary), the decimal digits of the length
///            as byte values 0–9, 0xFF, then the packet: the UTF-8 text form (length in bytes),
///            or the type byte followed by the data.
enum PollingPayloadV3 {
    private static let maximumLengthDigits = 10

    static func decode(_ body: ByteBuffer, maxPackets: Int) throws(EngineIOError) -> [EngineIOPacket] {
        let result = body.withUnsafeReadableBytes { bytes in
            Result { () throws(EngineIOError) -> [EngineIOPacket] in
                guard let first = bytes.first else { throw EngineIOError(.invalidPayload, "Empty payload") }
                if first <= 1 {
                    return try decodeBinary(bytes, body: body, maxPackets: maxPackets)
                }
                return try decodeText(bytes, maxPackets: maxPackets)
            }
        }
        return try result.get()
    }

    private static func decodeText(_ bytes: UnsafeRawBufferPointer, maxPackets: Int) throws(EngineIOError)
        -> [EngineIOPacket]
    {
        var packets: [EngineIOPacket] = []
        var index = 0
        while index < bytes.count {
            guard packets.count < maxPackets else {
                throw EngineIOError(.invalidPayload, "Payload has more than \(maxPackets) packets")
            }
            var length = 0
            var digits = 0
            while index < bytes.count, bytes[index] != UInt8(ascii: ":") {
                let digit = bytes[index] &- UInt8(ascii: "0")
                guard digit < 10, digits < maximumLengthDigits else {
                    throw EngineIOError(.invalidPayload, "Invalid length prefix")
                }
                length = length * 10 + Int(digit)
                digits += 1
                index += 1
            }
            guard digits > 0, index < bytes.count else { throw EngineIOError(.invalidPayload, "Invalid length prefix") }
            index += 1
            let start = index
            // Walk `length` UTF-16 code units over the UTF-8 bytes: scalars of 4 UTF-8 bytes
            // are surrogate pairs (2 units), all others 1 unit.
            var units = 0
            while units < length {
                guard index < bytes.count else {
                    throw EngineIOError(.invalidPayload, "Packet shorter than its length")
                }
                let lead = bytes[index]
                switch lead {
                case 0..<0x80:
                    index += 1
                    units += 1
                case 0xC0..<0xE0:
                    index += 2
                    units += 1
                case 0xE0..<0xF0:
                    index += 3
                    units += 1
                case 0xF0..<0xF8:
                    index += 4
                    units += 2
                default:
                    throw EngineIOError(.invalidPayload, "Payload is not valid UTF-8")
                }
            }
            guard units == length, index <= bytes.count else {
                throw EngineIOError(.invalidPayload, "Length prefix does not end on a character boundary")
            }
            let packetBytes = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
            packets.append(try EngineIOPacket.decodeText(packetBytes, protocolVersion: .v3))
        }
        return packets
    }

    private static func decodeBinary(_ bytes: UnsafeRawBufferPointer, body: ByteBuffer, maxPackets: Int)
        throws(EngineIOError) -> [EngineIOPacket]
    {
        var packets: [EngineIOPacket] = []
        var index = 0
        while index < bytes.count {
            guard packets.count < maxPackets else {
                throw EngineIOError(.invalidPayload, "Payload has more than \(maxPackets) packets")
            }
            let kind = bytes[index]
            guard kind <= 1 else { throw EngineIOError(.invalidPayload, "Invalid binary payload packet marker") }
            index += 1
            var length = 0
            var digits = 0
            while index < bytes.count, bytes[index] != 0xFF {
                guard bytes[index] < 10, digits < maximumLengthDigits else {
                    throw EngineIOError(.invalidPayload, "Invalid binary payload length")
                }
                length = length * 10 + Int(bytes[index])
                digits += 1
                index += 1
            }
            guard digits > 0, index < bytes.count else {
                throw EngineIOError(.invalidPayload, "Invalid binary payload length")
            }
            index += 1
            guard length > 0, length <= bytes.count - index else {
                throw EngineIOError(.invalidPayload, "Binary payload packet length out of range")
            }
            if kind == 0 {
                let packetBytes = UnsafeRawBufferPointer(rebasing: bytes[index..<index + length])
                packets.append(try EngineIOPacket.decodeText(packetBytes, protocolVersion: .v3))
            } else {
                guard let type = EngineIOPacketType(rawValue: bytes[index]),
                    let data = body.getSlice(at: body.readerIndex + index + 1, length: length - 1)
                else {
                    throw EngineIOError(.invalidPacket, "Binary packet with an invalid type byte")
                }
                packets.append(EngineIOPacket(type, .binary(data)))
            }
            index += length
        }
        return packets
    }

    /// Encodes as many packets as fit (at least one). Counting uses the size of the text
    /// framing; the binary framing is used when `allowsBinary` and an included packet is binary.
    static func encode<Packets: Collection<EngineIOPacket>>(
        _ packets: Packets,
        allowsBinary: Bool,
        maxPackets: Int,
        maxBytes: Int
    ) -> (bytes: ByteBuffer, packetCount: Int, isBinary: Bool) {
        var count = 0
        var byteCount = 0
        var hasBinary = false
        for packet in packets {
            guard count < maxPackets else { break }
            let units = packet.encodedTextUTF16Count(protocolVersion: .v3)
            let size = decimalDigitCount(units) + 1 + packet.encodedTextByteCount(protocolVersion: .v3)
            guard count == 0 || byteCount + size <= maxBytes else { break }
            count += 1
            byteCount += size
            if case .binary = packet.data { hasBinary = true }
        }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(byteCount + count)
        let isBinary = allowsBinary && hasBinary
        for packet in packets.prefix(count) {
            if isBinary {
                appendBinaryFramed(packet, to: &buffer)
            } else {
                buffer.writeString(String(packet.encodedTextUTF16Count(protocolVersion: .v3)))
                buffer.writeInteger(UInt8(ascii: ":"))
                packet.encodeText(into: &buffer, protocolVersion: .v3)
            }
        }
        return (buffer, count, isBinary)
    }

    private static func appendBinaryFramed(_ packet: EngineIOPacket, to buffer: inout ByteBuffer) {
        switch packet.data {
        case .text:
            buffer.writeInteger(UInt8(0))
            appendLengthDigits(packet.encodedTextByteCount(protocolVersion: .v3), to: &buffer)
            packet.encodeText(into: &buffer, protocolVersion: .v3)
        case .binary(let data):
            buffer.writeInteger(UInt8(1))
            appendLengthDigits(1 + data.readableBytes, to: &buffer)
            buffer.writeInteger(packet.type.rawValue)
            buffer.writeImmutableBuffer(data)
        }
    }

    private static func appendLengthDigits(_ length: Int, to buffer: inout ByteBuffer) {
        for digit in String(length).utf8 { buffer.writeInteger(digit - UInt8(ascii: "0")) }
        buffer.writeInteger(UInt8(0xFF))
    }

    private static func decimalDigitCount(_ value: Int) -> Int {
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        return digits
    }
}
