import DuplexSocketIOCore

/// A Socket.IO server URL split the way the JavaScript client's `io(url)` splits it: the origin
/// the manager connects to, the namespace in the path, and the query passed to Engine.IO.
struct SocketIOClientURL: Sendable, Hashable {
    /// `scheme://host[:port]`.
    var origin: String
    /// The URL path, `/` when empty: the namespace `io(url)` joins.
    var namespace: String
    /// The query without `?`, if any.
    var query: String?

    /// Parses `http`, `https`, `ws` and `wss` URLs.
    ///
    /// - Throws: ``SocketIOError/Code/invalidConfiguration``.
    init(_ url: String) throws(SocketIOError) {
        guard let colon = url.firstIndex(of: ":"), url[colon...].hasPrefix("://") else {
            throw SocketIOError(.invalidConfiguration, "invalid URL (no scheme): \(url.prefix(100))")
        }
        let scheme = url[..<colon].lowercased()
        guard ["http", "https", "ws", "wss"].contains(scheme) else {
            throw SocketIOError(.invalidConfiguration, "unsupported URL scheme \"\(scheme.prefix(20))\"")
        }
        var rest = url[url.index(colon, offsetBy: 3)...]
        if let fragment = rest.firstIndex(of: "#") { rest = rest[..<fragment] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard !authority.isEmpty else {
            throw SocketIOError(.invalidConfiguration, "invalid URL (no host): \(url.prefix(100))")
        }
        origin = scheme + "://" + authority
        let pathAndQuery = rest[authorityEnd...]
        let queryStart = pathAndQuery.firstIndex(of: "?")
        let path = pathAndQuery[..<(queryStart ?? pathAndQuery.endIndex)]
        namespace = path.isEmpty ? "/" : String(path)
        if let queryStart {
            let query = pathAndQuery[pathAndQuery.index(after: queryStart)...]
            self.query = query.isEmpty ? nil : String(query)
        } else {
            query = nil
        }
        guard SocketIOPacket.isValidNamespace(namespace) else {
            throw SocketIOError(.invalidConfiguration, "invalid namespace \"\(namespace.prefix(100))\"")
        }
    }

    /// The Engine.IO endpoint at `path` (e.g. `/socket.io/`), with the query.
    func engineIOURL(path: String) -> String {
        origin + path + (query.map { "?" + $0 } ?? "")
    }
}
