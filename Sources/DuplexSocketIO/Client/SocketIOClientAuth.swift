import DuplexSocketIOCore

/// The auth payload a client sends in its CONNECT packet for a namespace (socket.io-protocol v5,
/// "CONNECT"; protocol.md 4.2.5): nothing, a fixed object, or an object computed at every
/// (re)connection, like the JavaScript client's `auth` option which may be a function.
public enum SocketIOClientAuth: Sendable {
    /// No payload: the CONNECT packet is `0` (or `0/nsp,`).
    case none
    /// The same object at every connection.
    case value(JSONObject)
    /// Called before every CONNECT (a new token per reconnection, for instance); `nil` sends
    /// no payload.
    case provider(@Sendable () async -> JSONObject?)

    /// The object to send now.
    func resolve() async -> JSONObject? {
        switch self {
        case .none: return nil
        case .value(let object): return object
        case .provider(let provider): return await provider()
        }
    }
}
