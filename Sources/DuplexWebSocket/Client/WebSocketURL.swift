import DuplexWebSocketCore

/// A parsed `ws://` or `wss://` URL (RFC 6455 §3).
public struct WebSocketURL: Sendable, Hashable, CustomStringConvertible {
    /// Whether the scheme is `wss`.
    public var isSecure: Bool
    /// The host name or address, without IPv6 brackets.
    public var host: String
    /// The port (the scheme's default when the URL has none).
    public var port: Int
    /// The request target: path and query (RFC 6455 §3: "/" when the path is empty; never the fragment).
    public var target: String

    /// Parses `string`.
    /// - Throws: ``WebSocketError/Code/invalidURL`` for anything that is not a usable ws/wss URL.
    public init(_ string: String) throws(WebSocketError) {
        let lower = string.lowercased()
        let rest: Substring
        if lower.hasPrefix("ws://") {
            isSecure = false
            rest = string.dropFirst(5)
        } else if lower.hasPrefix("wss://") {
            isSecure = true
            rest = string.dropFirst(6)
        } else {
            throw WebSocketError(.invalidURL, "not a ws:// or wss:// URL: \(string.prefix(100))")
        }
        // RFC 6455 §3: "Fragment identifiers are meaningless in the context of WebSocket URIs and
        // MUST NOT be used on these URIs."
        guard !rest.contains("#") else { throw WebSocketError(.invalidURL, "a WebSocket URL may not have a fragment") }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        let pathAndQuery = rest[authorityEnd...]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let defaultPort = isSecure ? 443 : 80
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw WebSocketError(.invalidURL, "unterminated IPv6 address") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.isEmpty {
                port = defaultPort
            } else if after.hasPrefix(":"), let value = Int(after.dropFirst()), (1...65535).contains(value) {
                port = value
            } else {
                throw WebSocketError(.invalidURL, "invalid port in \(string.prefix(100))")
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let value = Int(authority[authority.index(after: colon)...]), (1...65535).contains(value) else {
                throw WebSocketError(.invalidURL, "invalid port in \(string.prefix(100))")
            }
            port = value
        } else {
            host = String(authority)
            port = defaultPort
        }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "\t" }) else {
            throw WebSocketError(.invalidURL, "missing or invalid host in \(string.prefix(100))")
        }
        target = pathAndQuery.isEmpty ? "/" : (pathAndQuery.hasPrefix("?") ? "/" + pathAndQuery : String(pathAndQuery))
        guard !target.contains(where: { $0 == " " || $0 == "\r" || $0 == "\n" }) else {
            throw WebSocketError(.invalidURL, "the path contains spaces or line breaks")
        }
    }

    /// The `Host` header value: the port is included only when it is not the default.
    public var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (isSecure ? 443 : 80) ? name : "\(name):\(port)"
    }

    /// The origin (scheme, host, port), for comparing redirect targets.
    public var origin: String { "\(isSecure ? "wss" : "ws")://\(hostHeader.lowercased())" }

    public var description: String { "\(isSecure ? "wss" : "ws")://\(hostHeader)\(target)" }

    /// Resolves a redirect `Location` against this URL (absolute `ws(s)`/`http(s)` URLs, or a path).
    func resolvingRedirect(_ location: String) throws(WebSocketError) -> WebSocketURL {
        let lower = location.lowercased()
        if lower.hasPrefix("http://") { return try WebSocketURL("ws://" + location.dropFirst(7)) }
        if lower.hasPrefix("https://") { return try WebSocketURL("wss://" + location.dropFirst(8)) }
        if lower.hasPrefix("ws://") || lower.hasPrefix("wss://") { return try WebSocketURL(location) }
        if location.hasPrefix("//") { return try WebSocketURL((isSecure ? "wss:" : "ws:") + location) }
        guard location.hasPrefix("/") else {
            throw WebSocketError(.tooManyRedirects, "unsupported redirect location \(location.prefix(100))")
        }
        var copy = self
        copy.target = location
        return copy
    }
}
