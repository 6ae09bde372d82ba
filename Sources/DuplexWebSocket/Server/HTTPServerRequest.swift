import HTTPTypes
import NIOCore

/// A plain HTTP request received by a ``WebSocketServer`` (health checks, pages, API calls).
public struct HTTPServerRequest: Sendable {
    /// Method, path, headers.
    public var head: HTTPRequest
    /// The whole body (bounded by ``WebSocketServerConfiguration/maxRequestBodySize``).
    public var body: ByteBuffer
    /// The client's address, when known.
    public var remoteAddress: SocketAddress?

    /// Creates a request (for framework integrations and tests).
    public init(head: HTTPRequest, body: ByteBuffer = ByteBuffer(), remoteAddress: SocketAddress? = nil) {
        self.head = head
        self.body = body
        self.remoteAddress = remoteAddress
    }

    /// The path without the query string.
    public var path: Substring { (head.path ?? "/").split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0] }

    /// The query string without `?`, or empty.
    public var query: Substring {
        let parts = (head.path ?? "/").split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        return parts.count > 1 ? parts[1] : ""
    }
}

/// The answer to an ``HTTPServerRequest``.
public struct HTTPServerResponse: Sendable {
    /// Status and headers. `Content-Length` is set from ``body``.
    public var head: HTTPResponse
    /// The body.
    public var body: ByteBuffer

    /// Creates a response.
    public init(status: HTTPResponse.Status, headers: HTTPFields = HTTPFields(), body: ByteBuffer = ByteBuffer()) {
        self.head = HTTPResponse(status: status, headerFields: headers)
        self.body = body
    }

    /// A response with a UTF-8 text body.
    public init(status: HTTPResponse.Status, contentType: String = "text/plain; charset=utf-8", text: String) {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        self.init(status: status, headers: headers, body: ByteBuffer(string: text))
    }
}
