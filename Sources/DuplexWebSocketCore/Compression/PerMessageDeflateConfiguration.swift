/// Settings of the permessage-deflate extension (RFC 7692): what a client offers, or what a
/// server accepts, and how this endpoint compresses.
///
/// The four RFC 7692 §7.1 parameters mean different things by role:
/// - a **client** requests them from the server in its offer;
/// - a **server** imposes them on every accepted offer, whatever the client asked.
///
/// Call ``validate()`` once when the configuration is set up; the negotiation and the codec
/// validate it again and throw ``WebSocketError/Code/invalidConfiguration``.
public struct PerMessageDeflateConfiguration: Hashable, Sendable {
    /// Whether the server must reset its compression context after every message
    /// (`server_no_context_takeover`, RFC 7692 §7.1.1.1). Saves server memory between
    /// messages at the cost of compression ratio. Default `false`.
    ///
    /// Client: requested in the offer; a response without it fails the handshake.
    /// Server: always included in the response.
    public var serverNoContextTakeover: Bool

    /// Whether the client must reset its compression context after every message
    /// (`client_no_context_takeover`, RFC 7692 §7.1.1.2). Default `false`.
    ///
    /// Client: offered, and honoured even if the server's response omits it.
    /// Server: always included in the response.
    public var clientNoContextTakeover: Bool

    /// The largest LZ77 window the server may compress with, as a base-2 logarithm, 9...15
    /// (`server_max_window_bits`, RFC 7692 §7.1.2.1), or `nil` for no limit (15). Default `nil`.
    ///
    /// Client: requested in the offer; a response with a larger value (or none) fails the handshake.
    /// Server: the server compresses with at most this window, lowering the client's request.
    /// 8 is not allowed: zlib cannot compress with a 256-byte window.
    public var serverMaxWindowBits: Int?

    /// The largest LZ77 window the client may compress with, 9...15
    /// (`client_max_window_bits`, RFC 7692 §7.1.2.2), or `nil` for no limit. Default `nil`.
    ///
    /// Client: offered with this value; with `nil` the offer carries `client_max_window_bits`
    /// without a value, telling the server it may pick any limit.
    /// Server: imposed on clients that announced support for the parameter.
    public var clientMaxWindowBits: Int?

    /// The zlib compression level, 0 (store only) ... 9 (smallest output). Default 6.
    public var compressionLevel: Int

    /// The zlib memory level, 1 (least memory, slowest) ... 9. Default 8, zlib's own default.
    public var memoryLevel: Int

    /// Messages smaller than this many bytes are sent uncompressed (RSV1 clear), which
    /// RFC 7692 §6.1 allows per message: tiny messages rarely shrink. Default 0 (compress all).
    public var minimumMessageSize: Int

    /// Creates a configuration. Every parameter defaults to the value documented on its property.
    public init(
        serverNoContextTakeover: Bool = false,
        clientNoContextTakeover: Bool = false,
        serverMaxWindowBits: Int? = nil,
        clientMaxWindowBits: Int? = nil,
        compressionLevel: Int = 6,
        memoryLevel: Int = 8,
        minimumMessageSize: Int = 0
    ) {
        self.serverNoContextTakeover = serverNoContextTakeover
        self.clientNoContextTakeover = clientNoContextTakeover
        self.serverMaxWindowBits = serverMaxWindowBits
        self.clientMaxWindowBits = clientMaxWindowBits
        self.compressionLevel = compressionLevel
        self.memoryLevel = memoryLevel
        self.minimumMessageSize = minimumMessageSize
    }

    /// The defaults: context takeover both ways, full windows, level 6, memory level 8.
    public static let `default` = PerMessageDeflateConfiguration()

    /// The window sizes this endpoint can configure. RFC 7692 §7.1.2 allows 8...15, but zlib
    /// refuses to deflate with an 8-bit window, so a compressing side needs at least 9.
    static let configurableWindowBits = 9...15

    /// Checks every value against its documented range.
    ///
    /// - Throws: ``WebSocketError/Code/invalidConfiguration`` naming the first bad value.
    public func validate() throws(WebSocketError) {
        if let bits = serverMaxWindowBits, !Self.configurableWindowBits.contains(bits) {
            throw WebSocketError(.invalidConfiguration, "serverMaxWindowBits must be in 9...15, got \(bits)")
        }
        if let bits = clientMaxWindowBits, !Self.configurableWindowBits.contains(bits) {
            throw WebSocketError(.invalidConfiguration, "clientMaxWindowBits must be in 9...15, got \(bits)")
        }
        guard (0...9).contains(compressionLevel) else {
            throw WebSocketError(.invalidConfiguration, "compressionLevel must be in 0...9, got \(compressionLevel)")
        }
        guard (1...9).contains(memoryLevel) else {
            throw WebSocketError(.invalidConfiguration, "memoryLevel must be in 1...9, got \(memoryLevel)")
        }
        guard minimumMessageSize >= 0 else {
            throw WebSocketError(
                .invalidConfiguration,
                "minimumMessageSize must not be negative, got \(minimumMessageSize)"
            )
        }
    }
}
