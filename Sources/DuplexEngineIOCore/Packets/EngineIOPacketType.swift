/// The Engine.IO packet types (engine.io-protocol v4, "Packet types"; protocol.md 4.1.2).
///
/// The same seven types exist in v3. A closed enum: a new packet type would be a new
/// protocol revision.
public enum EngineIOPacketType: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// `0`, server → client: the handshake (JSON, see ``EngineIOHandshake``).
    case open = 0
    /// `1`, either way: close the session (or the transport, during an upgrade).
    case close = 1
    /// `2`: heartbeat ping (server → client in v4, client → server in v3); `2probe` during an upgrade.
    case ping = 2
    /// `3`: heartbeat pong; `3probe` answers an upgrade probe.
    case pong = 3
    /// `4`, either way: application data.
    case message = 4
    /// `5`, client → server: completes a transport upgrade.
    case upgrade = 5
    /// `6`, server → client: wakes or ends a pending poll.
    case noop = 6

    /// The ASCII digit that encodes this type in text packets (`"0"` is 0x30).
    @inlinable
    public var asciiDigit: UInt8 { 0x30 &+ rawValue }

    /// The type encoded by an ASCII digit, or `nil` if the byte is not `0`–`6`.
    @inlinable
    public init?(asciiDigit: UInt8) {
        guard asciiDigit >= 0x30 else { return nil }
        self.init(rawValue: asciiDigit &- 0x30)
    }

    public var description: String {
        switch self {
        case .open: return "open"
        case .close: return "close"
        case .ping: return "ping"
        case .pong: return "pong"
        case .message: return "message"
        case .upgrade: return "upgrade"
        case .noop: return "noop"
        }
    }
}
