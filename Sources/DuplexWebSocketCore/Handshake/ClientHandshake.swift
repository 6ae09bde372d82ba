import HTTPTypes
import NIOCore

/// The client side of the opening handshake (RFC 6455 §4.1): builds the upgrade request and
/// validates the server's response.
public struct ClientHandshake: Sendable {
    /// The `Host` header value (host, with the port when it is not the scheme's default).
    public var host: String
    /// The request target: path and query, e.g. `/chat?room=1`.
    public var target: String
    /// The `Sec-WebSocket-Key` sent.
    public var key: String
    /// Subprotocols offered, in order of preference (`Sec-WebSocket-Protocol`).
    public var subprotocols: [String]
    /// permessage-deflate offer, or nil to offer no extension.
    public var compression: PerMessageDeflateConfiguration?
    /// Extra request headers (`Origin`, `Authorization`, `User-Agent`, …).
    public var headers: HTTPFields

    /// Creates a handshake with a fresh random key.
    public init(
        host: String,
        target: String,
        subprotocols: [String] = [],
        compression: PerMessageDeflateConfiguration? = nil,
        headers: HTTPFields = HTTPFields(),
        key: String = HandshakeKey.random()
    ) {
        self.host = host
        self.target = target.isEmpty ? "/" : target
        self.subprotocols = subprotocols
        self.compression = compression
        self.headers = headers
        self.key = key
    }

    /// The result of a successful handshake.
    public struct Negotiated: Sendable, Hashable {
        /// The subprotocol the server selected, if any.
        public var subprotocol: String?
        /// The agreed permessage-deflate parameters, if compression was negotiated.
        public var compression: PerMessageDeflateParameters?
        /// The raw `Sec-WebSocket-Extensions` response value, if any.
        public var extensionsHeader: String?
    }

    /// The request head bytes (RFC 6455 §4.1 "The handshake MUST be a valid HTTP request").
    public func requestHead(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 256)
        buffer.writeString("GET \(target) HTTP/1.1\r\n")
        buffer.writeString("Host: \(host)\r\n")
        buffer.writeString("Upgrade: websocket\r\nConnection: Upgrade\r\n")
        buffer.writeString("Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n")
        if !subprotocols.isEmpty {
            buffer.writeString("Sec-WebSocket-Protocol: \(subprotocols.joined(separator: ", "))\r\n")
        }
        if let compression {
            buffer.writeString("Sec-WebSocket-Extensions: \(PerMessageDeflateNegotiation.clientOffer(compression))\r\n")
        }
        for field in headers {
            buffer.writeString("\(field.name.rawName): \(field.value)\r\n")
        }
        buffer.writeString("\r\n")
        return buffer
    }

    /// Validates the server's response (RFC 6455 §4.1, the client's checks 1-6).
    public func validate(_ response: HTTPResponse) throws(WebSocketError) -> Negotiated {
        // RFC 6455 §4.1: "If the status code received from the server is not 101, the client
        // handles the response per HTTP procedures."
        guard response.status.code == 101 else {
            throw WebSocketError(.handshakeRejected, "server answered \(response.status.code) instead of 101", response: response)
        }
        let fields = response.headerFields
        // "If the response lacks an |Upgrade| header field or the |Upgrade| header field contains
        // a value that is not an ASCII case-insensitive match for the value "websocket", the
        // client MUST _Fail the WebSocket Connection_."
        guard fields.containsToken("websocket", in: .upgrade) else {
            throw WebSocketError(.invalidHandshakeResponse, "missing or wrong Upgrade header", response: response)
        }
        guard fields.containsToken("upgrade", in: .connection) else {
            throw WebSocketError(.invalidHandshakeResponse, "missing or wrong Connection header", response: response)
        }
        guard let accept = fields[.secWebSocketAccept], accept == HandshakeKey.accept(for: key) else {
            throw WebSocketError(.invalidHandshakeResponse, "missing or wrong Sec-WebSocket-Accept", response: response)
        }
        var negotiated = Negotiated()
        // "If the response includes a |Sec-WebSocket-Extensions| header field and this header
        // field indicates the use of an extension that was not present in the client's handshake
        // ... the client MUST _Fail the WebSocket Connection_."
        let extensionValues = fields[values: .secWebSocketExtensions]
        if !extensionValues.isEmpty {
            guard let compression else {
                throw WebSocketError(.negotiationFailed, "server selected an extension that was not offered", response: response)
            }
            do {
                negotiated.compression = try PerMessageDeflateNegotiation.clientAccept(responseValues: extensionValues, configuration: compression)
            } catch {
                throw WebSocketError(error.code, error.message, cause: error.cause, response: response)
            }
            negotiated.extensionsHeader = extensionValues.joined(separator: ", ")
        }
        // "If the response includes a |Sec-WebSocket-Protocol| header field and this header field
        // indicates the use of a subprotocol that was not present in the client's handshake ...
        // the client MUST _Fail the WebSocket Connection_."
        let protocolValues = fields[values: .secWebSocketProtocol]
        if !protocolValues.isEmpty {
            let selected = protocolValues.joined(separator: ",").trimmingCharacters(in: " \t")
            guard protocolValues.count == 1, !selected.contains(","), subprotocols.contains(selected) else {
                throw WebSocketError(.negotiationFailed, "server selected subprotocol \"\(selected.prefix(64))\" that was not offered", response: response)
            }
            negotiated.subprotocol = selected
        }
        return negotiated
    }
}

extension HTTPFields {
    /// Whether any value of the comma-separated header `name` contains `token`, compared ASCII
    /// case-insensitively (RFC 9110 §5.6.1 lists).
    public func containsToken(_ token: String, in name: HTTPField.Name) -> Bool {
        self[values: name].contains { value in
            value.split(separator: ",").contains { $0.trimmingASCIIWhitespace().lowercased() == token }
        }
    }

    /// The comma-separated list elements of every value of header `name`, trimmed.
    public func listElements(_ name: HTTPField.Name) -> [String] {
        self[values: name].flatMap { value in
            value.split(separator: ",").map { String($0.trimmingASCIIWhitespace()) }.filter { !$0.isEmpty }
        }
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var result = Substring(self)
        while let first = result.first, set.contains(first) { result = result.dropFirst() }
        while let last = result.last, set.contains(last) { result = result.dropLast() }
        return String(result)
    }
}
