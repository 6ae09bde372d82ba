/// Size limits for one connection. The defaults are finite and safe for a public server.
public struct WebSocketLimits: Hashable, Sendable {
    /// The largest payload of a single frame, in bytes. Default 1 MiB.
    public var maxFrameSize: Int
    /// The largest message, in bytes, after reassembly and decompression. Default 1 MiB.
    /// Exceeding it fails the connection with close code 1009.
    public var maxMessageSize: Int

    /// Creates limits.
    public init(maxFrameSize: Int = 1 << 20, maxMessageSize: Int = 1 << 20) {
        self.maxFrameSize = maxFrameSize
        self.maxMessageSize = maxMessageSize
    }

    /// The defaults: 1 MiB frames and messages.
    public static let `default` = WebSocketLimits()
}
