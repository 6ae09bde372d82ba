import DuplexEngineIOCore
import HTTPTypes
import NIOCore

/// The request that opened an Engine.IO session (a polling GET or a WebSocket upgrade without
/// `sid`), as ``EngineIOServerConfiguration/allowRequest`` and ``EngineIOSocket/request`` see it.
/// Use it for authentication (headers, query) and logging.
public struct EngineIOHandshakeRequest: Sendable {
    /// Method, path with query, headers.
    public var head: HTTPRequest
    /// The client's address, when known (behind a proxy, the proxy's).
    public var remoteAddress: SocketAddress?
    /// The transport the session opens over.
    public var transport: EngineIOTransport
    /// The protocol revision the client speaks.
    public var protocolVersion: EngineIOProtocolVersion
    /// The decoded query parameters, in order.
    public var queryItems: [(name: String, value: String)]

    /// Creates a request description.
    public init(
        head: HTTPRequest,
        remoteAddress: SocketAddress?,
        transport: EngineIOTransport,
        protocolVersion: EngineIOProtocolVersion,
        queryItems: [(name: String, value: String)]
    ) {
        self.head = head
        self.remoteAddress = remoteAddress
        self.transport = transport
        self.protocolVersion = protocolVersion
        self.queryItems = queryItems
    }

    /// The first value of the query parameter `name`.
    public func queryValue(_ name: String) -> String? {
        queryItems.first { $0.name == name }?.value
    }
}
