import NIOCore

/// Encodes packets to the Socket.IO text format plus binary attachments.
///
/// Wire format (socket.io-protocol, "Packet encoding"; protocol.md 4.2.3):
///
///     <type digit>
///     [<attachment count> "-"]   BINARY_EVENT and BINARY_ACK only
///     [<namespace> ","]          only when the namespace is not "/"
///     [<ack id>]                 decimal digits
///     [<JSON payload>]           as JSON.stringify writes it
///
/// The text is measured first and then written once into storage of its exact size, so
/// encoding allocates only the resulting string (or nothing beyond the caller's buffer, with
/// ``encode(_:into:)``) plus the attachment array when there are attachments.
///
/// Namespaces must satisfy ``SocketIOPacket/isValidNamespace(_:)`` (the API layer checks
/// them); an empty namespace is written as `/`.
public struct SocketIOPacketEncoder: Sendable {
    /// The protocol revision written.
    public var protocolVersion: SocketIOProtocolVersion

    /// Creates an encoder for `protocolVersion`.
    public init(protocolVersion: SocketIOProtocolVersion = .v5) {
        self.protocolVersion = protocolVersion
    }

    /// Encodes `packet` as a text message and its attachments.
    ///
    /// - For EVENT and ACK (and their binary types), each ``JSONValue/binary(_:)`` in the
    ///   payload becomes `{"_placeholder":true,"num":N}`, numbered in discovery order (depth
    ///   first, array order, object member order), and its bytes are returned as attachment
    ///   `N`; a payload with binary promotes EVENT/ACK to BINARY_EVENT/BINARY_ACK
    ///   (protocol.md 4.2.4). Binary in other packet types is written as Node's `Buffer.toJSON`.
    /// - Protocol v4: CONNECT writes an object payload as a query on the namespace
    ///   (`0/admin?token=abc,`) and CONNECT_ERROR writes its `message` as a JSON string.
    public func encode(_ packet: SocketIOPacket) -> SocketIOEncodedPacket {
        let plan = Plan(packet, protocolVersion: protocolVersion)
        let text = String(unsafeUninitializedCapacity: plan.length) { buffer in
            var output = OutputCursor(buffer)
            plan.write(to: &output)
            return output.finish()
        }
        return SocketIOEncodedPacket(text: text, attachments: plan.writer.attachments)
    }

    /// Appends `packet`'s text message to `buffer` (growing it at most once) and returns the
    /// attachments, as ``encode(_:)`` would. Lets a transport write the text straight into
    /// its outgoing frame, after its own prefix (the Engine.IO `4`).
    public func encode(_ packet: SocketIOPacket, into buffer: inout ByteBuffer) -> [ByteBuffer] {
        let plan = Plan(packet, protocolVersion: protocolVersion)
        let length = plan.length
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { raw in
            var output = OutputCursor(UnsafeMutableBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[0..<length]))
            plan.write(to: &output)
            return output.finish()
        }
        return plan.writer.attachments
    }

    /// What to write, with the payload already measured.
    private struct Plan {
        let type: SocketIOPacketType
        /// The namespace, `nil` for the default namespace (written only with a v4 query).
        let namespace: String?
        /// The protocol v4 CONNECT query.
        let query: String?
        let ackID: UInt64?
        let payload: JSONValue?
        let writer: JSONWriter
        let length: Int

        init(_ packet: SocketIOPacket, protocolVersion: SocketIOProtocolVersion) {
            var payload = packet.data
            let carriesAttachments: Bool
            switch packet.type {
            case .event, .ack, .binaryEvent, .binaryAck: carriesAttachments = true
            case .connect, .disconnect, .connectError: carriesAttachments = false
            }

            var query: String? = nil
            if protocolVersion == .v4 {
                switch packet.type {
                case .connect:
                    // socket.io-client 2.x Manager#packet: `packet.nsp += '?' + packet.query` for CONNECT.
                    if case .object(let object)? = payload, !object.isEmpty {
                        query = SocketIOPacketEncoder.queryString(object)
                    }
                    payload = nil
                case .connectError:
                    // Protocol v4 `ERROR` carries a string (protocol.md 4.2.9 item 2).
                    if let message = payload?["message"], case .string = message { payload = message }
                default:
                    break
                }
            }
            // An empty namespace is the default one.
            let namespace = packet.namespace.isEmpty ? "/" : packet.namespace
            self.namespace = namespace != "/" || query != nil ? namespace : nil
            self.query = query
            self.ackID = packet.ackID
            self.payload = payload

            var writer = JSONWriter(collectsAttachments: carriesAttachments)
            var length = payload.map { writer.measure($0) } ?? 0
            self.writer = writer
            let attachmentCount = writer.attachments.count
            // socket.io-parser Encoder#encode: EVENT/ACK with binary become BINARY_EVENT/BINARY_ACK.
            switch packet.type {
            case .event where attachmentCount > 0: type = .binaryEvent
            case .ack where attachmentCount > 0: type = .binaryAck
            default: type = packet.type
            }

            length += 1
            if type.isBinary { length += JSONWriter.decimalDigitCount(UInt64(attachmentCount)) + 1 }
            if let namespace = self.namespace { length += namespace.utf8.count + 1 }
            if let query { length += 1 + query.utf8.count }
            if let ackID { length += JSONWriter.decimalDigitCount(ackID) }
            self.length = length
        }

        func write(to output: inout OutputCursor) {
            output.append(type.asciiDigit)
            if type.isBinary {
                output.appendDecimal(UInt64(writer.attachments.count))
                output.append(UInt8(ascii: "-"))
            }
            if let namespace {
                output.appendRaw(namespace)
                if let query {
                    output.append(UInt8(ascii: "?"))
                    output.appendRaw(query)
                }
                output.append(UInt8(ascii: ","))
            }
            if let ackID { output.appendDecimal(ackID) }
            if let payload { writer.write(payload, to: &output) }
        }
    }

    /// Node's `querystring.stringify` for an auth object: strings, numbers and booleans as
    /// text, arrays as repeated keys, anything else as an empty value; keys and values
    /// percent-encoded except `A–Z a–z 0–9 - _ . ! ~ * ' ( )`.
    static func queryString(_ object: JSONObject) -> String {
        var output: [UInt8] = []
        for member in object.members {
            let values: [JSONValue]
            if case .array(let elements) = member.value { values = elements } else { values = [member.value] }
            for value in values {
                if !output.isEmpty { output.append(UInt8(ascii: "&")) }
                percentEncode(member.key, into: &output)
                output.append(UInt8(ascii: "="))
                switch value {
                case .string(let string): percentEncode(string, into: &output)
                case .int, .double, .bool: output.append(contentsOf: value.jsonBytes)
                case .null, .array, .object, .binary: break
                }
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func percentEncode(_ text: String, into output: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "!"), UInt8(ascii: "~"), UInt8(ascii: "*"), UInt8(ascii: "'"), UInt8(ascii: "("),
                UInt8(ascii: ")"):
                output.append(byte)
            default:
                let hexDigits: StaticString = "0123456789ABCDEF"
                output.append(UInt8(ascii: "%"))
                output.append(hexDigits.utf8Start[Int(byte >> 4)])
                output.append(hexDigits.utf8Start[Int(byte & 0xF)])
            }
        }
    }
}
