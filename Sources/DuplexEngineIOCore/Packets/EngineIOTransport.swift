/// An Engine.IO transport, as named in the `transport` query parameter and in the
/// handshake's `upgrades` list.
public struct EngineIOTransport: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The wire name (`polling`, `websocket`).
    public let rawValue: String

    /// Wraps a wire name.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// HTTP long-polling (protocol.md 4.1.4).
    public static let polling = EngineIOTransport(rawValue: "polling")
    /// WebSocket (protocol.md 4.1.5).
    public static let websocket = EngineIOTransport(rawValue: "websocket")

    public var description: String { rawValue }
}
