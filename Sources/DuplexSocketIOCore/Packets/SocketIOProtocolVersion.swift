/// A Socket.IO protocol revision (socket.io-protocol; not the library version).
///
/// Protocol v4 is what Socket.IO 1.x/2.x speak, over Engine.IO v3 (`EIO=3`); protocol v5 is
/// Socket.IO 3.x and later, over Engine.IO v4. A server picks the revision from the Engine.IO
/// revision of the session.
///
/// What changes in v4 (protocol.md 4.2.9), and where it is handled:
/// - Type 4 is `ERROR` with a **string** payload: ``SocketIOPacketEncoder`` writes a
///   CONNECT_ERROR's `message` as a JSON string.
/// - Auth travels as a query string on the namespace of CONNECT (`0/admin?token=abc,`):
///   ``SocketIOPacketDecoder`` strips it from the namespace and reports it as the packet's
///   `data` (an object of strings, as the reference v5 server passes it as `auth` for EIO3
///   clients); the encoder writes an object `data` of a CONNECT back as that query.
/// - The connection to `/` is implicit. That is server and client behaviour, not wire format:
///   a v4 server must act as if `0` (CONNECT `/`, no auth) arrived when the Engine.IO session
///   opens, and send its own `0` reply (which carries no `{"sid"}` payload in v4); a v4
///   client must not send CONNECT for `/`. Socket ids derive from the Engine.IO sid (the sid
///   itself on `/`, `"/admin#" + sid` elsewhere, as Socket.IO 2.x).
public struct SocketIOProtocolVersion: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The revision number (`4` or `5`).
    public let rawValue: Int

    /// Wraps a revision number; only ``v4`` and ``v5`` are implemented.
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Protocol v4: Socket.IO 1.x/2.x, on Engine.IO v3.
    public static let v4 = SocketIOProtocolVersion(rawValue: 4)
    /// Protocol v5: Socket.IO 3.x and later, on Engine.IO v4.
    public static let v5 = SocketIOProtocolVersion(rawValue: 5)

    public var description: String { "v\(rawValue)" }
}
