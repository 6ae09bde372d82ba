import NIOCore

/// An HTTP body carrying a polling payload, with the content type it must be sent with.
public struct EngineIOPollingBody: Hashable, Sendable, CustomStringConvertible {
    /// The `Content-Type` of a polling body.
    public struct ContentType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The header value.
        public let rawValue: String
        /// Wraps a header value.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// `text/plain; charset=UTF-8`: v4 payloads and v3 text payloads (ref impl).
        public static let text = ContentType(rawValue: "text/plain; charset=UTF-8")
        /// `application/octet-stream`: v3 XHR2 binary payloads.
        public static let binary = ContentType(rawValue: "application/octet-stream")
        /// `text/javascript; charset=UTF-8`: v3 JSONP responses.
        public static let javascript = ContentType(rawValue: "text/javascript; charset=UTF-8")

        public var description: String { rawValue }
    }

    /// The body bytes.
    public var bytes: ByteBuffer
    /// The content type to send them with.
    public var contentType: ContentType

    /// Creates a body.
    public init(bytes: ByteBuffer, contentType: ContentType) {
        self.bytes = bytes
        self.contentType = contentType
    }

    public var description: String { "\(contentType.rawValue) <\(bytes.readableBytes) bytes>" }
}
