import HTTPTypes

extension HTTPRequest {
    /// Whether this is a WebSocket opening handshake (RFC 6455 §4.2.1: `Upgrade: websocket`,
    /// compared case-insensitively), the requests Hummingbird runs through its upgrade check.
    var isWebSocketUpgrade: Bool {
        guard let upgrade = headerFields[.upgrade] else { return false }
        return upgrade.split(separator: ",").contains { token in
            token.filter { $0 != " " && $0 != "\t" }.lowercased() == "websocket"
        }
    }
}
