/// A frame opcode (RFC 6455 §5.2). Extensible: reserved values are representable so the
/// parser can report them.
public struct Opcode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue & 0x0F }

    /// 0x0: continuation of a fragmented message.
    public static let continuation = Opcode(rawValue: 0x0)
    /// 0x1: text (UTF-8).
    public static let text = Opcode(rawValue: 0x1)
    /// 0x2: binary.
    public static let binary = Opcode(rawValue: 0x2)
    /// 0x8: connection close.
    public static let close = Opcode(rawValue: 0x8)
    /// 0x9: ping.
    public static let ping = Opcode(rawValue: 0x9)
    /// 0xA: pong.
    public static let pong = Opcode(rawValue: 0xA)

    /// RFC 6455 §5.5: "Control frames are identified by opcodes where the most significant bit
    /// of the opcode is 1."
    public var isControl: Bool { rawValue & 0x8 != 0 }

    /// Whether RFC 6455 defines this opcode (the others are reserved, §5.2).
    public var isKnown: Bool {
        switch rawValue {
        case 0x0, 0x1, 0x2, 0x8, 0x9, 0xA: return true
        default: return false
        }
    }

    public var description: String {
        switch rawValue {
        case 0x0: return "CONT"
        case 0x1: return "TEXT"
        case 0x2: return "BINARY"
        case 0x8: return "CLOSE"
        case 0x9: return "PING"
        case 0xA: return "PONG"
        default: return "RESERVED(\(rawValue))"
        }
    }
}
