import NIOCore

/// A framework-neutral HTTP request to the Engine.IO endpoint: what every adapter (standalone
/// NIO server, Hummingbird, Vapor) translates its own request into, so that they all apply the
/// same rules.
public struct EngineIORequest: Sendable {
    /// The HTTP method, e.g. `GET`.
    public var method: String
    /// The request path, without the query.
    public var path: String
    /// The decoded query parameters, in order (a name may repeat).
    public var queryItems: [(name: String, value: String)]
    /// The header fields, in order (names compare case-insensitively).
    public var headers: [(name: String, value: String)]
    /// The body, for a POST.
    public var body: ByteBuffer?

    /// Creates a request from decoded parts.
    public init(
        method: String,
        path: String,
        queryItems: [(name: String, value: String)],
        headers: [(name: String, value: String)] = [],
        body: ByteBuffer? = nil
    ) {
        self.method = method
        self.path = path
        self.queryItems = queryItems
        self.headers = headers
        self.body = body
    }

    /// Creates a request from a request target such as `/engine.io/?EIO=4&transport=polling`.
    ///
    /// - Throws: ``EngineIOError/Code/badRequest`` if the query has a malformed percent-escape
    ///   or is not UTF-8 once decoded.
    public init(
        method: String,
        target: String,
        headers: [(name: String, value: String)] = [],
        body: ByteBuffer? = nil
    ) throws(EngineIOError) {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = parts.first.map(String.init) ?? ""
        let query = parts.count > 1 ? parts[1] : ""
        self.init(method: method, path: path, queryItems: try Self.parseQuery(query), headers: headers, body: body)
    }

    /// Parses an `application/x-www-form-urlencoded` query string (`+` is a space; a fragment
    /// after `#` is ignored).
    ///
    /// - Throws: ``EngineIOError/Code/badRequest`` for a malformed escape or invalid UTF-8.
    public static func parseQuery(_ query: Substring) throws(EngineIOError) -> [(name: String, value: String)] {
        let query = query.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        var items: [(name: String, value: String)] = []
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let nameAndValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = PercentDecoding.decodeString(nameAndValue[0]),
                let value = nameAndValue.count > 1 ? PercentDecoding.decodeString(nameAndValue[1]) : ""
            else {
                throw EngineIOError(.badRequest, "Malformed query string")
            }
            items.append((name, value))
        }
        return items
    }

    /// The first value of the header `name` (case-insensitive).
    public func headerValue(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The first value of the query parameter `name`.
    public func queryValue(_ name: String) -> String? {
        queryItems.first { $0.name == name }?.value
    }

    /// Whether this is a WebSocket opening handshake: `Upgrade` lists the `websocket` token
    /// (RFC 6455 §4.1). The WebSocket layer validates the rest of the handshake.
    public var isWebSocketUpgrade: Bool {
        guard let upgrade = headerValue("upgrade") else { return false }
        return upgrade.split(separator: ",").contains { $0.trimmingASCIIWhitespace().lowercased() == "websocket" }
    }

    /// The polling format a handshake asks for: v4 for `EIO=4`; for v3, JSONP when `j` is
    /// present, base64 when `b64` is present and not `0`/`false`, else binary (XHR2).
    public var pollingFormat: EngineIOPollingFormat {
        if queryValue("EIO") == "4" { return .v4 }
        if let index = queryValue("j").flatMap(Int.init) { return .v3JSONP(index: index) }
        if let base64 = queryValue("b64"), !base64.isEmpty, base64 != "0", base64 != "false" { return .v3Base64 }
        return .v3Binary
    }

    /// Checks the request's syntax and says what it asks for, applying the reference server's
    /// checks in its order (`packages/engine.io/lib/server.ts` `verify` and `handshake`;
    /// protocol.md 4.1.1).
    ///
    /// - Parameters:
    ///   - transports: the transports the server accepts.
    ///   - allowsEIO3: whether Engine.IO v3 clients are accepted.
    /// - Throws: ``EngineIOError`` with the code the reference server answers with:
    ///   - ``EngineIOError/Code/transportUnknown`` (0): `transport` missing, repeated or not enabled;
    ///   - ``EngineIOError/Code/badRequest`` (3): an invalid `Origin`, a repeated `sid`/`EIO`/`j`,
    ///     a non-numeric `j`, a `transport=websocket` request that is not an upgrade, an upgrade
    ///     with `transport=polling`, a method other than GET/POST on a session;
    ///   - ``EngineIOError/Code/sessionIdUnknown`` (1): a `sid` that is not a valid id;
    ///   - ``EngineIOError/Code/badHandshakeMethod`` (2): a handshake that is not a GET;
    ///   - ``EngineIOError/Code/unsupportedProtocolVersion`` (5): `EIO` missing or not 4 (or 3
    ///     with `allowsEIO3`).
    public func classify(
        transports: [EngineIOTransport] = [.polling, .websocket],
        allowsEIO3: Bool = false
    ) throws(EngineIOError) -> EngineIORequestKind {
        let method = method.uppercased()
        if method == "OPTIONS" { return .preflight }

        guard let transportName = try singleQueryValue("transport", code: .transportUnknown),
            case let transport = EngineIOTransport(rawValue: transportName), transports.contains(transport),
            transport == .polling || transport == .websocket
        else {
            throw EngineIOError(.transportUnknown, "Transport unknown")
        }

        // ref impl: an Origin with characters invalid in a header value is a bad request.
        if let origin = headerValue("origin"), origin.unicodeScalars.contains(where: Self.isInvalidHeaderScalar) {
            throw EngineIOError(.badRequest, "Invalid Origin header")
        }

        let isUpgrade = isWebSocketUpgrade
        if let sidText = try singleQueryValue("sid", code: .badRequest) {
            guard let sid = EngineIOSessionID(rawValue: sidText) else {
                throw EngineIOError(.sessionIdUnknown, "Session ID unknown")
            }
            if transport == .websocket {
                guard isUpgrade, method == "GET" else {
                    throw EngineIOError(.badRequest, "transport=websocket without a WebSocket upgrade")
                }
                return .upgrade(sid: sid)
            }
            guard !isUpgrade else { throw EngineIOError(.badRequest, "WebSocket upgrade with transport=polling") }
            switch method {
            case "GET": return .poll(sid: sid)
            case "POST": return .post(sid: sid)
            default: throw EngineIOError(.badRequest, "Method \(method) not allowed on a polling session")
            }
        }

        // protocol.md 4.1.1: "The handshake must be a GET."
        guard method == "GET" else { throw EngineIOError(.badHandshakeMethod, "Bad handshake method") }
        let protocolVersion: EngineIOProtocolVersion
        switch try singleQueryValue("EIO", code: .unsupportedProtocolVersion) {
        case "4"?: protocolVersion = .v4
        case "3"? where allowsEIO3: protocolVersion = .v3
        default: throw EngineIOError(.unsupportedProtocolVersion, "Unsupported protocol version")
        }
        if transport == .websocket {
            guard isUpgrade else {
                throw EngineIOError(.badRequest, "transport=websocket without a WebSocket upgrade")
            }
        } else {
            guard !isUpgrade else { throw EngineIOError(.badRequest, "WebSocket upgrade with transport=polling") }
            if protocolVersion == .v3, let index = try singleQueryValue("j", code: .badRequest) {
                guard !index.isEmpty, index.utf8.count <= 9, index.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                    throw EngineIOError(.badRequest, "Invalid JSONP index")
                }
            }
        }
        return .handshake(transport: transport, protocolVersion: protocolVersion)
    }

    /// The value of a parameter that must not repeat (a repeated one is ambiguous).
    private func singleQueryValue(_ name: String, code: EngineIOError.Code) throws(EngineIOError) -> String? {
        var found: String? = nil
        for item in queryItems where item.name == name {
            guard found == nil else { throw EngineIOError(code, "Repeated query parameter \(name)") }
            found = item.value
        }
        return found
    }

    /// ref impl `checkInvalidHeaderChars`: `/[^\t\x20-\x7e\x80-\xff]/`.
    private static func isInvalidHeaderScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x20...0x7E, 0x80...0xFF: return false
        default: return true
        }
    }
}
