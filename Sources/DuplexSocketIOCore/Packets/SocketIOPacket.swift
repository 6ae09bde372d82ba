import NIOCore

/// One Socket.IO packet (protocol.md 4.2.2): a type, a namespace, an optional ack id and an
/// optional JSON payload whose ``JSONValue/binary(_:)`` values travel as attachments.
public struct SocketIOPacket: Hashable, Sendable, CustomStringConvertible {
    /// The packet type. Decoded binary packets report ``SocketIOPacketType/event`` or
    /// ``SocketIOPacketType/ack`` (with ``attachmentCount`` set), as socket.io-parser does;
    /// the encoder promotes them back when the payload holds binary.
    public var type: SocketIOPacketType
    /// The namespace, `/` by default. It starts with `/` and contains no `,`.
    public var namespace: String
    /// The acknowledgement id of an event that expects a reply, or of an ack.
    public var ackID: UInt64?
    /// The payload, `nil` when the packet has none.
    public var data: JSONValue?
    /// The number of binary attachments announced on the wire. The encoder ignores it and
    /// counts the ``JSONValue/binary(_:)`` values of ``data`` instead.
    public var attachmentCount: Int

    /// Creates a packet; ``attachmentCount`` is the number of binaries in `data`.
    public init(type: SocketIOPacketType, namespace: String = "/", ackID: UInt64? = nil, data: JSONValue? = nil) {
        self.type = type
        self.namespace = namespace
        self.ackID = ackID
        self.data = data
        self.attachmentCount = data?.binaryCount ?? 0
    }

    /// Creates a packet with an explicit attachment count (the decoder's count from the wire).
    init(type: SocketIOPacketType, namespace: String, ackID: UInt64?, data: JSONValue?, attachmentCount: Int) {
        self.type = type
        self.namespace = namespace
        self.ackID = ackID
        self.data = data
        self.attachmentCount = attachmentCount
    }

    /// Whether `name` is refused as an event name because it names one of the library's own
    /// lifecycle events (socket.io-parser `RESERVED_EVENTS`): `connect`, `connect_error`,
    /// `disconnect`, `disconnecting`, `newListener`, `removeListener`.
    public static func isReservedEventName(_ name: String) -> Bool {
        // Checked on every received event: compare lengths first, then bytes (a `String` switch
        // would go through Unicode-aware comparison for every candidate).
        let utf8 = name.utf8
        switch utf8.count {
        case 7: return utf8.elementsEqual("connect".utf8)
        case 10: return utf8.elementsEqual("disconnect".utf8)
        case 11: return utf8.elementsEqual("newListener".utf8)
        case 13: return utf8.elementsEqual("connect_error".utf8) || utf8.elementsEqual("disconnecting".utf8)
        case 14: return utf8.elementsEqual("removeListener".utf8)
        default: return false
        }
    }

    /// Whether `namespace` can be written in a packet header: it starts with `/` and contains
    /// no `,` (which ends the namespace on the wire).
    public static func isValidNamespace(_ namespace: String) -> Bool {
        namespace.utf8.first == UInt8(ascii: "/") && !namespace.utf8.contains(UInt8(ascii: ","))
    }

    /// A CONNECT packet; `data` is the client's optional auth object, or the server's
    /// `{"sid": …}` reply.
    public static func connect(namespace: String = "/", data: JSONValue? = nil) -> SocketIOPacket {
        SocketIOPacket(type: .connect, namespace: namespace, data: data)
    }

    /// A DISCONNECT packet.
    public static func disconnect(namespace: String = "/") -> SocketIOPacket {
        SocketIOPacket(type: .disconnect, namespace: namespace)
    }

    /// An EVENT packet carrying `[name, ...arguments]`.
    public static func event(
        _ name: String,
        _ arguments: [JSONValue] = [],
        namespace: String = "/",
        ackID: UInt64? = nil
    ) -> SocketIOPacket {
        var elements: [JSONValue] = [.string(name)]
        elements.append(contentsOf: arguments)
        return SocketIOPacket(type: .event, namespace: namespace, ackID: ackID, data: .array(elements))
    }

    /// An ACK packet replying to `ackID` with `arguments`.
    public static func ack(_ arguments: [JSONValue], namespace: String = "/", ackID: UInt64) -> SocketIOPacket {
        SocketIOPacket(type: .ack, namespace: namespace, ackID: ackID, data: .array(arguments))
    }

    /// A CONNECT_ERROR packet with the v5 payload `{"message": message, "data"?: data}`.
    public static func connectError(
        namespace: String = "/",
        message: String,
        data: JSONValue? = nil
    ) -> SocketIOPacket {
        var payload: JSONObject = ["message": .string(message)]
        if let data { payload["data"] = data }
        return SocketIOPacket(type: .connectError, namespace: namespace, data: .object(payload))
    }

    /// The event name of an EVENT packet (`nil` for numeric names and other types).
    public var eventName: String? {
        guard type == .event || type == .binaryEvent else { return nil }
        return data?[0]?.stringValue
    }

    /// The event arguments of an EVENT (everything after the name) or the values of an ACK.
    public var arguments: [JSONValue] {
        guard let elements = data?.arrayValue else { return [] }
        switch type {
        case .event, .binaryEvent: return Array(elements.dropFirst())
        case .ack, .binaryAck: return elements
        case .connect, .disconnect, .connectError: return []
        }
    }

    /// A log-friendly rendering; the payload is elided after 64 bytes of JSON.
    public var description: String {
        var text = "\(type) \(namespace)"
        if let ackID { text += " id=\(ackID)" }
        if attachmentCount > 0 { text += " +\(attachmentCount) attachments" }
        if let data {
            let json = data.jsonString
            let prefixLength = 64
            if json.utf8.count <= prefixLength {
                text += " \(json)"
            } else {
                text += " \(json.prefix(prefixLength))… [\(json.utf8.count) bytes]"
            }
        }
        return text
    }
}
