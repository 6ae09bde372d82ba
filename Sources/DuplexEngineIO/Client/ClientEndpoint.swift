import DuplexEngineIOCore
import DuplexWebSocket
import DuplexWebSocketCore

/// Where a client session lives: the server's address and the Engine.IO path, and the URLs of
/// each request (protocol.md 4.1.1).
struct ClientEndpoint: Sendable, Hashable {
    /// Whether the scheme is `https`/`wss`.
    var isSecure: Bool
    /// The host name or address, without IPv6 brackets.
    var host: String
    /// The TCP port.
    var port: Int
    /// The `Host` header value.
    var hostHeader: String
    /// The Engine.IO path, e.g. `/engine.io/`.
    var path: String
    /// The query the URL carried plus the configured extra parameters, encoded, without `?`.
    var extraQuery: String

    /// Parses `url`: `http`, `https`, `ws` or `wss`. A URL without a path gets `/engine.io/`.
    ///
    /// - Throws: ``EngineIOError/Code/invalidConfiguration`` with the `WebSocketError` as cause.
    init(_ url: String, query: [(name: String, value: String)]) throws(EngineIOError) {
        let lower = url.lowercased()
        var webSocketForm = url
        if lower.hasPrefix("http://") {
            webSocketForm = "ws://" + url.dropFirst(7)
        } else if lower.hasPrefix("https://") {
            webSocketForm = "wss://" + url.dropFirst(8)
        }
        let parsed: WebSocketURL
        do {
            parsed = try WebSocketURL(webSocketForm)
        } catch {
            throw EngineIOError(.invalidConfiguration, "invalid Engine.IO URL: \(url.prefix(100))", cause: error)
        }
        isSecure = parsed.isSecure
        host = parsed.host
        port = parsed.port
        hostHeader = parsed.hostHeader
        let parts = parsed.target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = parts[0] == "/" ? "/engine.io/" : String(parts[0])
        var items = parts.count > 1 && !parts[1].isEmpty ? [String(parts[1])] : []
        items += query.map { Self.percentEncoded($0.name) + "=" + Self.percentEncoded($0.value) }
        extraQuery = items.joined(separator: "&")
    }

    /// The request target of a polling request or WebSocket handshake:
    /// `path?EIO=4&transport=…[&sid=…]&t=…` then the extra parameters.
    func target(transport: EngineIOTransport, sid: String?) -> String {
        var target = path + "?EIO=4&transport=" + transport.rawValue
        if let sid { target += "&sid=" + Self.percentEncoded(sid) }
        // protocol.md 4.1.1: `t` is a cache-buster the server ignores.
        if transport == .polling { target += "&t=" + String(UInt64.random(in: 0...UInt64.max), radix: 36) }
        if !extraQuery.isEmpty { target += "&" + extraQuery }
        return target
    }

    /// The `ws://` or `wss://` URL of a WebSocket handshake (with `sid` for an upgrade probe).
    func webSocketURL(sid: String?) -> String {
        (isSecure ? "wss://" : "ws://") + hostHeader + target(transport: .websocket, sid: sid)
    }

    /// RFC 3986 §2.3: everything but unreserved characters is percent-encoded.
    static func percentEncoded(_ text: String) -> String {
        let hexDigits = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                bytes.append(byte)
            default:
                bytes.append(UInt8(ascii: "%"))
                bytes.append(hexDigits[Int(byte >> 4)])
                bytes.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
