import NIOCore

/// Decodes Socket.IO packets from the text and binary messages of one connection.
///
/// A mutating state machine: feed each Engine.IO text message to ``textReceived(_:)`` and
/// each binary message to ``binaryReceived(_:)``. A binary packet header is held until its
/// attachments have arrived; then its placeholders are replaced by the attachments.
///
/// Validation follows socket.io-parser 4.2 (protocol.md 4.2.3, 4.2.4), with these stricter
/// choices: an EVENT or ACK must have a payload, CONNECT_ERROR must have one, the attachment
/// count needs at least one digit, and an ack id must fit in `UInt64`. Any error leaves the
/// decoder reset (nothing pending); the connection should then be closed ("parse error").
public struct SocketIOPacketDecoder: Sendable {
    /// What a message completed.
    public enum Output: Hashable, Sendable {
        /// A complete packet.
        case packet(SocketIOPacket)
        /// A binary packet header is pending; this many attachments are still expected.
        case awaitingAttachments(Int)
    }

    private enum State: Sendable {
        case idle
        case awaitingAttachments(header: SocketIOPacket, expected: Int, received: [ByteBuffer])
    }

    /// The protocol revision read.
    public let protocolVersion: SocketIOProtocolVersion
    /// The largest attachment count accepted in a binary header (socket.io-parser
    /// `maxAttachments`, default 10). A negative value is treated as 0.
    public let maxAttachments: Int
    /// The maximum nesting depth of JSON payloads (default ``JSONValue/defaultMaxDepth``).
    public let maxDepth: Int
    private var state: State = .idle

    /// Creates a decoder.
    public init(
        protocolVersion: SocketIOProtocolVersion = .v5,
        maxAttachments: Int = 10,
        maxDepth: Int = JSONValue.defaultMaxDepth
    ) {
        self.protocolVersion = protocolVersion
        self.maxAttachments = max(0, maxAttachments)
        self.maxDepth = maxDepth
    }

    /// The number of attachments still expected for a pending binary packet (0 when idle).
    public var pendingAttachmentCount: Int {
        guard case .awaitingAttachments(_, let expected, let received) = state else { return 0 }
        return expected - received.count
    }

    /// Drops a pending binary packet, if any.
    public mutating func reset() {
        state = .idle
    }

    /// Decodes a text message (the Engine.IO `message` data, without its `4` prefix).
    ///
    /// - Throws: ``SocketIOError/Code/invalidPacket`` (grammar or payload rules),
    ///   ``SocketIOError/Code/invalidJSON``, ``SocketIOError/Code/jsonTooDeep``,
    ///   ``SocketIOError/Code/tooManyAttachments``, ``SocketIOError/Code/invalidAttachment``
    ///   (attachments still pending, or a bad placeholder in a header that expects none).
    public mutating func textReceived(_ text: String) throws(SocketIOError) -> Output {
        if case .awaitingAttachments(_, let expected, let received) = state {
            state = .idle
            // socket.io-parser Decoder#add: "got plaintext data when reconstructing a packet".
            throw SocketIOError(
                .invalidAttachment,
                "text packet received while \(expected - received.count) of \(expected) attachments are pending"
            )
        }
        var text = text
        let header = try text.withUTF8 { utf8 in
            Result { () throws(SocketIOError) in try parse(UnsafeRawBufferPointer(utf8)) }
        }.get()
        guard header.type.isBinary else { return .packet(header) }
        guard header.attachmentCount > 0 else {
            // protocol.md 4.2.4: "A header with count 0 is complete immediately."
            return .packet(try Self.reconstruct(header, attachments: []))
        }
        state = .awaitingAttachments(header: header, expected: header.attachmentCount, received: [])
        return .awaitingAttachments(header.attachmentCount)
    }

    /// Decodes a binary message: the next attachment of the pending binary packet.
    ///
    /// - Throws: ``SocketIOError/Code/invalidAttachment`` when no binary header is pending,
    ///   or when the completed packet has a placeholder that is malformed or out of range.
    public mutating func binaryReceived(_ buffer: ByteBuffer) throws(SocketIOError) -> Output {
        guard case .awaitingAttachments(let header, let expected, var received) = state else {
            // socket.io-parser Decoder#add: "got binary data when not reconstructing a packet".
            throw SocketIOError(.invalidAttachment, "binary message received with no binary packet pending")
        }
        state = .idle  // releases `received` so appending does not copy it
        received.append(buffer)
        guard received.count == expected else {
            state = .awaitingAttachments(header: header, expected: expected, received: received)
            return .awaitingAttachments(expected - received.count)
        }
        return .packet(try Self.reconstruct(header, attachments: received))
    }

    // MARK: Header and payload

    private func parse(_ bytes: UnsafeRawBufferPointer) throws(SocketIOError) -> SocketIOPacket {
        let end = bytes.count
        // socket.io-parser decodeString: "look up type".
        guard end > 0, let wireType = SocketIOPacketType(asciiDigit: bytes[0]) else {
            throw SocketIOError(.invalidPacket, "unknown packet type")
        }
        var position = 1

        // "look up attachments if type binary": a non-negative integer followed by "-".
        var attachmentCount = 0
        if wireType.isBinary {
            let digits = Self.readDigits(bytes, at: &position)
            guard digits.count > 0, position < end, bytes[position] == UInt8(ascii: "-") else {
                throw SocketIOError(.invalidPacket, "illegal attachment count")
            }
            guard !digits.overflowed, digits.value <= UInt64(maxAttachments) else {
                throw SocketIOError(.tooManyAttachments, "more than \(maxAttachments) attachments announced")
            }
            attachmentCount = Int(digits.value)
            position += 1
        }

        // "look up namespace (if any)": from "/" to "," or to the end (`40/custom`).
        var namespace = "/"
        var query: JSONValue? = nil
        if position < end, bytes[position] == UInt8(ascii: "/") {
            let namespaceStart = position
            while position < end, bytes[position] != UInt8(ascii: ",") { position += 1 }
            var namespaceEnd = position
            if position < end { position += 1 }  // the ","
            if protocolVersion == .v4, wireType == .connect,
                let mark = bytes[namespaceStart..<namespaceEnd].firstIndex(of: UInt8(ascii: "?"))
            {
                // Protocol v4: auth as a query on the CONNECT namespace (protocol.md 4.2.9 item 3).
                query = Self.parseQuery(UnsafeRawBufferPointer(rebasing: bytes[(mark + 1)..<namespaceEnd]))
                namespaceEnd = mark
            }
            let namespaceBytes = UnsafeRawBufferPointer(rebasing: bytes[namespaceStart..<namespaceEnd])
            namespace = String(decoding: namespaceBytes, as: UTF8.self)
        }

        // "look up id": a run of decimal digits; 0 is valid (python-socketio#1329).
        var ackID: UInt64? = nil
        let id = Self.readDigits(bytes, at: &position)
        if id.count > 0 {
            guard !id.overflowed else { throw SocketIOError(.invalidPacket, "ack id does not fit in 64 bits") }
            ackID = id.value
        }

        // "look up json data".
        var payload: JSONValue? = nil
        if position < end {
            var parser = JSONParser(bytes: bytes, startIndex: position, maxDepth: maxDepth)
            payload = try parser.parseDocument()
        }
        if let query {
            guard payload == nil else {
                throw SocketIOError(.invalidPacket, "CONNECT has both a query and a payload")
            }
            payload = query
        }
        try Self.validate(payload, of: wireType)
        return SocketIOPacket(
            type: wireType,
            namespace: namespace,
            ackID: ackID,
            data: payload,
            attachmentCount: attachmentCount
        )
    }

    /// Reads a run of ASCII digits at `position` (possibly empty) as a `UInt64`.
    private static func readDigits(
        _ bytes: UnsafeRawBufferPointer,
        at position: inout Int
    ) -> (value: UInt64, count: Int, overflowed: Bool) {
        let start = position
        var value: UInt64 = 0
        var overflowed = false
        while position < bytes.count {
            let digit = bytes[position] &- UInt8(ascii: "0")
            guard digit < 10 else { break }
            let (product, productOverflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, sumOverflow) = product.addingReportingOverflow(UInt64(digit))
            overflowed = overflowed || productOverflow || sumOverflow
            value = sum
            position += 1
        }
        return (value, position - start, overflowed)
    }

    /// socket.io-parser `isPayloadValid` (protocol.md 4.2.3 "Validation").
    private static func validate(_ payload: JSONValue?, of type: SocketIOPacketType) throws(SocketIOError) {
        let isValid: Bool
        switch (type, payload) {
        case (.connect, nil), (.connect, .object?):
            isValid = true
        case (.disconnect, nil):
            isValid = true
        case (.connectError, .string?), (.connectError, .object?):
            isValid = true
        case (.event, .array(let elements)?), (.binaryEvent, .array(let elements)?):
            switch elements.first {
            case .int?, .double?: isValid = true
            case .string(let name)?: isValid = !SocketIOPacket.isReservedEventName(name)
            default: isValid = false
            }
        case (.ack, .array?), (.binaryAck, .array?):
            isValid = true
        default:
            isValid = false
        }
        guard isValid else {
            throw SocketIOError(.invalidPacket, "invalid payload for \(type)")
        }
    }

    /// Node's `querystring.parse`: `&`-separated `key=value` pairs, `+` as space, `%XX` decoded
    /// (invalid escapes kept as they are, invalid UTF-8 replaced); a repeated key collects its
    /// values in an array.
    static func parseQuery(_ bytes: UnsafeRawBufferPointer) -> JSONValue {
        var object = JSONObject()
        for pair in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let separator = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
            let key = unescape(pair[pair.startIndex..<separator])
            let value = JSONValue.string(separator < pair.endIndex ? unescape(pair[(separator + 1)...]) : "")
            switch object[key] {
            case nil: object[key] = value
            case .array(var values)?:
                values.append(value)
                object[key] = .array(values)
            case let existing?: object[key] = [existing, value]
            }
        }
        return .object(object)
    }

    private static func unescape(_ bytes: Slice<UnsafeRawBufferPointer>) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var position = bytes.startIndex
        while position < bytes.endIndex {
            let byte = bytes[position]
            if byte == UInt8(ascii: "+") {
                output.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), bytes.endIndex - position >= 3,
                let high = hexValue(bytes[position + 1]), let low = hexValue(bytes[position + 2])
            {
                output.append(high << 4 | low)
                position += 2
            } else {
                output.append(byte)
            }
            position += 1
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    // MARK: Attachments

    /// socket.io-parser `reconstructPacket`: replaces each `{"_placeholder":true,"num":N}` by
    /// attachment `N`, and reports the packet as EVENT/ACK.
    private static func reconstruct(
        _ header: SocketIOPacket,
        attachments: [ByteBuffer]
    ) throws(SocketIOError) -> SocketIOPacket {
        var packet = header
        packet.type = header.type == .binaryEvent ? .event : .ack
        if var data = packet.data {
            packet.data = nil  // keeps `data` uniquely referenced while it is rewritten
            try replacePlaceholders(in: &data, attachments: attachments)
            packet.data = data
        }
        return packet
    }

    private static func replacePlaceholders(
        in value: inout JSONValue,
        attachments: [ByteBuffer]
    ) throws(SocketIOError) {
        switch value {
        case .array(var elements):
            value = .null
            for index in elements.indices {
                try replacePlaceholders(in: &elements[index], attachments: attachments)
            }
            value = .array(elements)
        case .object(var object):
            // socket.io-parser `_reconstructPacket`: `data._placeholder === true` marks a placeholder.
            if object["_placeholder"] == .bool(true) {
                guard let number = object["num"]?.intValue, number >= 0, number < attachments.count else {
                    throw SocketIOError(
                        .invalidAttachment,
                        "placeholder index \(object["num"]?.description ?? "missing") outside [0, \(attachments.count))"
                    )
                }
                value = .binary(attachments[Int(number)])
                return
            }
            value = .null
            try object.updateValues { (member: inout JSONValue) throws(SocketIOError) in
                try replacePlaceholders(in: &member, attachments: attachments)
            }
            value = .object(object)
        case .null, .bool, .int, .double, .string, .binary:
            break
        }
    }
}
