/// The Socket.IO packet types (socket.io-protocol v5, "Packet types"; protocol.md 4.2.2).
///
/// A closed enum: a new packet type would be a new protocol revision. In protocol v4 type 4 is
/// called `ERROR` and carries a string.
public enum SocketIOPacketType: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// `0`: client → server connects to a namespace (optional auth object); server → client
    /// accepts (`{"sid": …}`).
    case connect = 0
    /// `1`: leaves a namespace; no payload.
    case disconnect = 1
    /// `2`: an event, `[name, ...args]`.
    case event = 2
    /// `3`: the reply to an event that carried an ack id, `[...args]`.
    case ack = 3
    /// `4`, server → client: refuses a namespace connection (`{"message": …, "data"?: …}`).
    case connectError = 4
    /// `5`: an event with binary attachments. Decoded packets report ``event`` instead.
    case binaryEvent = 5
    /// `6`: an ack with binary attachments. Decoded packets report ``ack`` instead.
    case binaryAck = 6

    /// The ASCII digit that encodes this type (`"0"` is 0x30).
    public var asciiDigit: UInt8 { 0x30 &+ rawValue }

    /// The type encoded by an ASCII digit, or `nil` if the byte is not `0`–`6`.
    public init?(asciiDigit: UInt8) {
        guard asciiDigit >= 0x30 else { return nil }
        self.init(rawValue: asciiDigit &- 0x30)
    }

    /// Whether this is ``binaryEvent`` or ``binaryAck``, whose header carries an attachment count.
    public var isBinary: Bool { self == .binaryEvent || self == .binaryAck }

    public var description: String {
        switch self {
        case .connect: return "CONNECT"
        case .disconnect: return "DISCONNECT"
        case .event: return "EVENT"
        case .ack: return "ACK"
        case .connectError: return "CONNECT_ERROR"
        case .binaryEvent: return "BINARY_EVENT"
        case .binaryAck: return "BINARY_ACK"
        }
    }
}
