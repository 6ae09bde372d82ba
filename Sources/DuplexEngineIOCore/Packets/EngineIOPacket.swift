import NIOCore

/// One Engine.IO packet: a type and its data (engine.io-protocol v4, "Packet encoding").
///
/// Codecs live beside it: ``init(webSocketFrame:protocolVersion:)`` and
/// ``webSocketFrame(protocolVersion:)`` for WebSocket messages, ``EngineIOPollingFormat`` for
/// HTTP long-polling payloads.
public struct EngineIOPacket: Hashable, Sendable, CustomStringConvertible {
    /// The packet type.
    public var type: EngineIOPacketType
    /// The packet data; `.text("")` when the packet has none.
    public var data: EngineIOPacketData

    /// Creates a packet.
    public init(_ type: EngineIOPacketType, _ data: EngineIOPacketData = .text("")) {
        self.type = type
        self.data = data
    }

    /// A `message` packet with text.
    public static func message(_ text: String) -> EngineIOPacket { EngineIOPacket(.message, .text(text)) }
    /// A `message` packet with bytes.
    public static func message(_ bytes: ByteBuffer) -> EngineIOPacket { EngineIOPacket(.message, .binary(bytes)) }
    /// `1`.
    public static var close: EngineIOPacket { EngineIOPacket(.close) }
    /// `2`.
    public static var ping: EngineIOPacket { EngineIOPacket(.ping) }
    /// `3`.
    public static var pong: EngineIOPacket { EngineIOPacket(.pong) }
    /// `5`.
    public static var upgrade: EngineIOPacket { EngineIOPacket(.upgrade) }
    /// `6`.
    public static var noop: EngineIOPacket { EngineIOPacket(.noop) }
    /// `2probe`, the client's upgrade probe (protocol.md 4.1.7).
    public static var probePing: EngineIOPacket { EngineIOPacket(.ping, .text("probe")) }
    /// `3probe`, the server's answer to the probe (protocol.md 4.1.7).
    public static var probePong: EngineIOPacket { EngineIOPacket(.pong, .text("probe")) }

    /// Whether this is `2probe`.
    public var isProbePing: Bool { type == .ping && data == .text("probe") }
    /// Whether this is `3probe`.
    public var isProbePong: Bool { type == .pong && data == .text("probe") }

    /// A log-friendly rendering with the payload elided.
    public var description: String {
        if case .text(let text) = data, text.isEmpty { return "\(type)" }
        return "\(type) \(data)"
    }
}
