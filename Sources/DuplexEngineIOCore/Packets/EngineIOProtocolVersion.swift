/// An Engine.IO protocol revision, as sent in the `EIO` query parameter.
public struct EngineIOProtocolVersion: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The revision number (`3` or `4`).
    public let rawValue: Int

    /// Wraps a revision number; only ``v3`` and ``v4`` are implemented.
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Engine.IO v3 (Socket.IO 1.x/2.x): client-initiated heartbeat, length-prefixed polling
    /// payloads, type byte on binary WebSocket messages (protocol.md 4.1.9).
    public static let v3 = EngineIOProtocolVersion(rawValue: 3)
    /// Engine.IO v4 (Socket.IO 3.x and later).
    public static let v4 = EngineIOProtocolVersion(rawValue: 4)

    public var description: String { "EIO=\(rawValue)" }
}
