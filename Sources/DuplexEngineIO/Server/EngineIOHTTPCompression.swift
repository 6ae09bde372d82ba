/// Compression of polling responses (the reference server's `httpCompression`, python-engineio
/// `http_compression`): a response of at least ``threshold`` bytes is sent gzip- or
/// deflate-encoded when the request's `Accept-Encoding` allows it (gzip preferred).
public struct EngineIOHTTPCompression: Hashable, Sendable {
    /// The smallest body compressed, in bytes. Default 1024.
    public var threshold: Int
    /// The zlib compression level, 1 (fastest) to 9 (smallest); -1 is zlib's default (6).
    /// Default -1.
    public var level: Int

    /// Creates a compression configuration.
    public init(threshold: Int = 1024, level: Int = -1) {
        self.threshold = threshold
        self.level = level
    }

    /// gzip or deflate from 1024 bytes, at zlib's default level.
    public static let `default` = EngineIOHTTPCompression()
}
