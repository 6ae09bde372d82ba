import NIOCore

/// engine.io-protocol v3 JSONP polling (protocol.md 4.1.9; ref impl `polling-jsonp.js`).
///
/// Responses are JavaScript: `___eio[<j>]("<payload as a JSON string>");`, with U+2028/U+2029
/// escaped too ("JSON isn't a JavaScript subset"). Requests are form posts,
/// `d=<urlencoded payload>`, in which the client escaped `\n` as `\\n` and newlines as `\n`.
enum JSONPPolling {
    static func wrap(_ payload: ByteBuffer, index: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(payload.readableBytes + 32)
        buffer.writeStaticString("___eio[")
        buffer.writeString(String(index))
        buffer.writeStaticString("](\"")
        payload.withUnsafeReadableBytes { JSONValue.appendEscaped($0, to: &buffer, escapesLineSeparators: true) }
        buffer.writeStaticString("\");")
        return buffer
    }

    /// Extracts the payload from a JSONP form body.
    static func unwrapFormBody(_ body: ByteBuffer) throws(EngineIOError) -> ByteBuffer {
        let value: [UInt8]? = body.withUnsafeReadableBytes { bytes in
            var start = 0
            while start <= bytes.count {
                let end = bytes.firstOffset(of: UInt8(ascii: "&"), from: start) ?? bytes.count
                let pair = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
                if pair.count >= 2, pair[0] == UInt8(ascii: "d"), pair[1] == UInt8(ascii: "=") {
                    return PercentDecoding.decode(UnsafeRawBufferPointer(rebasing: pair[2...]))
                }
                start = end + 1
            }
            return nil
        }
        guard let value else { throw EngineIOError(.invalidPayload, "JSONP body has no valid `d` field") }
        // ref impl: `\\n` (escaped backslash-n) becomes `\n`; `\n` becomes a newline.
        var payload = ByteBuffer()
        payload.reserveCapacity(value.count)
        var index = 0
        var runStart = 0
        while index < value.count {
            guard value[index] == UInt8(ascii: "\\") else {
                index += 1
                continue
            }
            if index + 2 < value.count, value[index + 1] == UInt8(ascii: "\\"), value[index + 2] == UInt8(ascii: "n") {
                payload.writeBytes(value[runStart..<index])
                payload.writeStaticString("\\n")
                index += 3
                runStart = index
            } else if index + 1 < value.count, value[index + 1] == UInt8(ascii: "n") {
                payload.writeBytes(value[runStart..<index])
                payload.writeInteger(UInt8(ascii: "\n"))
                index += 2
                runStart = index
            } else {
                index += 1
            }
        }
        payload.writeBytes(value[runStart..<value.count])
        return payload
    }
}
