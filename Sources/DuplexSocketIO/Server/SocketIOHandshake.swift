import DuplexEngineIO
import HTTPTypes
import NIOCore

/// What a socket knows about how it connected (socket.io `socket.handshake`): the Engine.IO
/// request and the CONNECT payload.
public struct SocketIOHandshake: Sendable {
    /// The CONNECT payload (`auth`), an object or nil. In protocol v4 (Socket.IO 2.x) it comes
    /// from the namespace query (`/admin?token=…`). Never logged by Duplex.
    public var auth: JSONValue?
    /// The headers of the request that opened the Engine.IO session.
    public var headers: HTTPFields
    /// The query parameters of that request, in order.
    public var query: [(name: String, value: String)]
    /// The request path with its query.
    public var url: String
    /// The client's address, when known (behind a proxy, the proxy's).
    public var address: SocketAddress?
    /// The Socket.IO protocol revision the client speaks.
    public var protocolVersion: SocketIOProtocolVersion

    /// Creates a handshake description (adapters create them for remote sockets).
    public init(
        auth: JSONValue?,
        headers: HTTPFields = HTTPFields(),
        query: [(name: String, value: String)] = [],
        url: String = "/",
        address: SocketAddress? = nil,
        protocolVersion: SocketIOProtocolVersion = .v5
    ) {
        self.auth = auth
        self.headers = headers
        self.query = query
        self.url = url
        self.address = address
        self.protocolVersion = protocolVersion
    }

    init(request: EngineIOHandshakeRequest, auth: JSONValue?) {
        self.init(
            auth: auth,
            headers: request.head.headerFields,
            query: request.queryItems,
            url: request.head.path ?? "/",
            address: request.remoteAddress,
            protocolVersion: request.protocolVersion == .v3 ? .v4 : .v5
        )
    }

    /// The first value of query parameter `name`.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }
}
