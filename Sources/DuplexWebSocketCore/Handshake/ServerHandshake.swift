import HTTPTypes

/// The server side of the opening handshake (RFC 6455 §4.2): validates the client's request and
/// builds the 101 response headers. Rejections carry the HTTP status to answer with.
public enum ServerHandshake {
    /// A request that passed validation.
    public struct ValidatedRequest: Sendable, Hashable {
        /// The client's `Sec-WebSocket-Key`.
        public var key: String
        /// Subprotocols the client offered, in its order of preference.
        public var offeredSubprotocols: [String]
        /// The raw `Sec-WebSocket-Extensions` values.
        public var extensionOffers: [String]
        /// The `Origin` header, if any.
        public var origin: String?
    }

    /// Why a request was refused, and how to answer it.
    public struct Rejection: Error, Sendable, Hashable {
        /// The status to answer with.
        public var status: HTTPResponse.Status
        /// Extra response headers (`Sec-WebSocket-Version: 13` on 426, `Allow: GET` on 405).
        public var headers: HTTPFields
        /// The error, code ``WebSocketError/Code/invalidHandshakeRequest``.
        public var error: WebSocketError
    }

    /// Whether a request asks for a WebSocket upgrade at all (`Upgrade: websocket`); such a
    /// request is validated by ``validate(method:isHTTP11OrLater:headers:)``, others are plain HTTP.
    public static func isUpgradeRequest(_ headers: HTTPFields) -> Bool {
        headers.containsToken("websocket", in: .upgrade)
    }

    /// Validates an upgrade request (RFC 6455 §4.2.1).
    public static func validate(
        method: HTTPRequest.Method,
        isHTTP11OrLater: Bool,
        headers: HTTPFields
    ) -> Result<ValidatedRequest, Rejection> {
        // §4.2.1 item 1: "An HTTP/1.1 or higher GET request".
        guard method == .get else {
            var allow = HTTPFields()
            allow[.allow] = "GET"
            return .failure(reject(.methodNotAllowed, "the opening handshake must be a GET request", headers: allow))
        }
        guard isHTTP11OrLater else {
            return .failure(reject(.badRequest, "the opening handshake needs HTTP/1.1 or later"))
        }
        // Item 2: "A |Host| header field containing the server's authority."
        guard headers[HTTPField.Name("Host")!] != nil else { return .failure(reject(.badRequest, "missing Host header")) }
        // Items 3-4: Upgrade: websocket and Connection: Upgrade. Without them the client must
        // upgrade first: 426 (RFC 9110 §15.5.22) with the protocol to upgrade to.
        guard headers.containsToken("websocket", in: .upgrade), headers.containsToken("upgrade", in: .connection) else {
            var upgrade = HTTPFields()
            upgrade[.upgrade] = "websocket"
            upgrade[.connection] = "Upgrade"
            // §4.2.2: tell the client which version to use once it upgrades.
            upgrade[.secWebSocketVersion] = "13"
            return .failure(reject(.upgradeRequired, "missing Upgrade: websocket or Connection: Upgrade", headers: upgrade))
        }
        // Item 6 and §4.2.2: an unsupported version gets 426 with the versions we support.
        let versions = headers[values: .secWebSocketVersion]
        guard versions.count == 1, versions[0].trimmingCharacters(in: " \t") == "13" else {
            var version = HTTPFields()
            version[.secWebSocketVersion] = "13"
            return .failure(reject(.upgradeRequired, "unsupported Sec-WebSocket-Version (only 13)", headers: version))
        }
        // Item 5: the key must be base64 of 16 bytes, and there must be exactly one.
        let keys = headers[values: .secWebSocketKey]
        guard keys.count == 1, HandshakeKey.isValid(keys[0].trimmingCharacters(in: " \t")) else {
            return .failure(reject(.badRequest, "missing or invalid Sec-WebSocket-Key"))
        }
        return .success(
            ValidatedRequest(
                key: keys[0].trimmingCharacters(in: " \t"),
                offeredSubprotocols: headers.listElements(.secWebSocketProtocol),
                extensionOffers: headers[values: .secWebSocketExtensions],
                origin: headers[.origin]
            )
        )
    }

    /// The headers of the 101 response (RFC 6455 §4.2.2 item 5).
    public static func acceptHeaders(key: String, subprotocol: String?, extensions: String?) -> HTTPFields {
        var fields = HTTPFields()
        fields[.upgrade] = "websocket"
        fields[.connection] = "Upgrade"
        fields[.secWebSocketAccept] = HandshakeKey.accept(for: key)
        if let subprotocol { fields[.secWebSocketProtocol] = subprotocol }
        if let extensions { fields[.secWebSocketExtensions] = extensions }
        return fields
    }

    private static func reject(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = HTTPFields()) -> Rejection {
        Rejection(status: status, headers: headers, error: WebSocketError(.invalidHandshakeRequest, message))
    }
}
