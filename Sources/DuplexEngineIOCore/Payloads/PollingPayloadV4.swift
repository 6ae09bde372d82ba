import NIOCore

/// engine.io-protocol v4, "HTTP long-polling", payload format (protocol.md 4.1.4):
///
///   <packet> 0x1E <packet> 0x1E … <packet>
///
/// where each packet is its text form (`<digit><data>`, or `b<base64>` for a binary message).
/// The body is UTF-8.
enum PollingPayloadV4 {
    static let separator: UInt8 = 0x1E

    static func decode(_ body: ByteBuffer, maxPackets: Int) throws(EngineIOError) -> [EngineIOPacket] {
        let result = body.withUnsafeReadableBytes { bytes in
            Result { () throws(EngineIOError) -> [EngineIOPacket] in
                guard !bytes.isEmpty else { throw EngineIOError(.invalidPayload, "Empty payload") }
                var packets: [EngineIOPacket] = []
                var start = 0
                while true {
                    guard packets.count < maxPackets else {
                        throw EngineIOError(.invalidPayload, "Payload has more than \(maxPackets) packets")
                    }
                    let end = bytes.firstOffset(of: separator, from: start) ?? bytes.count
                    let packetBytes = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
                    packets.append(try EngineIOPacket.decodeText(packetBytes, protocolVersion: .v4))
                    guard end < bytes.count else { return packets }
                    start = end + 1
                }
            }
        }
        return try result.get()
    }

    /// How many of `packets` fit (at least one), and the size of their encoding.
    static func measure<Packets: Collection<EngineIOPacket>>(
        _ packets: Packets,
        maxPackets: Int,
        maxBytes: Int
    ) -> (count: Int, byteCount: Int) {
        var count = 0
        var byteCount = 0
        for packet in packets {
            guard count < maxPackets else { break }
            let size = (count == 0 ? 0 : 1) + packet.encodedTextByteCount(protocolVersion: .v4)
            // Always send at least one packet, or an oversized one would block the queue.
            guard count == 0 || byteCount + size <= maxBytes else { break }
            count += 1
            byteCount += size
        }
        return (count, byteCount)
    }

    static func encode<Packets: Collection<EngineIOPacket>>(
        _ packets: Packets,
        maxPackets: Int,
        maxBytes: Int
    ) -> (bytes: ByteBuffer, packetCount: Int) {
        let (count, byteCount) = measure(packets, maxPackets: maxPackets, maxBytes: maxBytes)
        var buffer = ByteBuffer()
        buffer.reserveCapacity(byteCount)
        for (index, packet) in packets.prefix(count).enumerated() {
            if index > 0 { buffer.writeInteger(separator) }
            packet.encodeText(into: &buffer, protocolVersion: .v4)
        }
        return (buffer, count)
    }
}
