import HTTPTypes
import NIOCore

/// A validated WebSocket upgrade request, as the upgrade hook sees it before accepting.
public struct WebSocketUpgradeRequest: Sendable {
    /// Method, path, headers.
    public var head: HTTPRequest
    /// The subprotocols the client offered, in its order of preference.
    public var offeredSubprotocols: [String]
    /// The client's address, when known.
    public var remoteAddress: SocketAddress?

    /// Creates a request (for framework integrations and tests).
    public init(head: HTTPRequest, offeredSubprotocols: [String] = [], remoteAddress: SocketAddress? = nil) {
        self.head = head
        self.offeredSubprotocols = offeredSubprotocols
        self.remoteAddress = remoteAddress
    }
}

/// What the upgrade hook decides about a WebSocket upgrade request.
public struct WebSocketUpgradeDecision: Sendable {
    enum Kind: Sendable {
        case accept(subprotocol: String??, headers: HTTPFields, compression: Bool)
        case reject(HTTPServerResponse)
        case passThrough
    }
    let kind: Kind

    /// Accept the upgrade. `subprotocol` overrides the automatic selection (`.some(nil)` selects
    /// none); `headers` are added to the 101 response; `compression: false` declines
    /// permessage-deflate for this connection.
    public static func accept(subprotocol: String?? = nil, headers: HTTPFields = HTTPFields(), compression: Bool = true) -> Self {
        Self(kind: .accept(subprotocol: subprotocol, headers: headers, compression: compression))
    }

    /// Accept with the defaults.
    public static let accept = Self.accept()

    /// Reject with any HTTP response (401, 403, 503 …); the connection is then closed.
    public static func reject(_ response: HTTPServerResponse) -> Self { Self(kind: .reject(response)) }

    /// Reject with a status and a text body.
    public static func reject(status: HTTPResponse.Status, text: String = "") -> Self {
        .reject(HTTPServerResponse(status: status, text: text.isEmpty ? status.reasonPhrase : text))
    }

    /// Serve the request as plain HTTP with the router's HTTP routes instead.
    public static let passThrough = Self(kind: .passThrough)
}
