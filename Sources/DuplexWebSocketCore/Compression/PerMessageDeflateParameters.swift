/// The permessage-deflate parameters both endpoints agreed on in the handshake
/// (RFC 7692 §7.1), with absent window sizes resolved to their effective value, 15.
public struct PerMessageDeflateParameters: Hashable, Sendable, CustomStringConvertible {
    /// The server resets its compression context after every message (RFC 7692 §7.1.1.1).
    public var serverNoContextTakeover: Bool
    /// The client resets its compression context after every message (RFC 7692 §7.1.1.2).
    public var clientNoContextTakeover: Bool
    /// The largest LZ77 window the server compresses with, 8...15 (RFC 7692 §7.1.2.1).
    public var serverMaxWindowBits: Int
    /// The largest LZ77 window the client compresses with, 8...15 (RFC 7692 §7.1.2.2).
    public var clientMaxWindowBits: Int

    /// Creates agreed parameters; the defaults are those of an offer and response without parameters.
    public init(
        serverNoContextTakeover: Bool = false,
        clientNoContextTakeover: Bool = false,
        serverMaxWindowBits: Int = 15,
        clientMaxWindowBits: Int = 15
    ) {
        self.serverNoContextTakeover = serverNoContextTakeover
        self.clientNoContextTakeover = clientNoContextTakeover
        self.serverMaxWindowBits = serverMaxWindowBits
        self.clientMaxWindowBits = clientMaxWindowBits
    }

    public var description: String {
        "permessage-deflate(server_no_context_takeover: \(serverNoContextTakeover), "
            + "client_no_context_takeover: \(clientNoContextTakeover), "
            + "server_max_window_bits: \(serverMaxWindowBits), client_max_window_bits: \(clientMaxWindowBits))"
    }
}
