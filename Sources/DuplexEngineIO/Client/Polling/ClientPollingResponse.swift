import NIOCore
import NIOHTTP1

/// A complete HTTP response to a polling request.
struct ClientPollingResponse: Sendable {
    /// The status code.
    var status: Int
    /// The response headers.
    var headers: HTTPHeaders
    /// The whole body.
    var body: ByteBuffer
    /// Whether the connection may carry another request (HTTP/1.1 keep-alive).
    var isKeepAlive: Bool
}
