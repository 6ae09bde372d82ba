import DuplexWebSocket
import HTTPTypes
import Vapor

extension HTTPRequest {
    /// The request head as the Engine.IO server reads it; nil for a method that is not a valid
    /// HTTP token (RFC 9110 §9.1), which Vapor would not route here anyway. Header fields whose
    /// name is not a valid token are left out.
    init?(_ request: Request) {
        guard let method = HTTPRequest.Method(request.method.rawValue) else { return nil }
        var fields = HTTPFields()
        fields.reserveCapacity(request.headers.count)
        for (name, value) in request.headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        self.init(method: method, scheme: nil, authority: request.headers.first(name: .host), path: request.url.string, headerFields: fields)
    }

    /// Whether this is a WebSocket opening handshake (RFC 6455 §4.2.1: `Upgrade: websocket`,
    /// compared case-insensitively).
    var isWebSocketUpgrade: Bool {
        guard let upgrade = headerFields[.upgrade] else { return false }
        return upgrade.split(separator: ",").contains { token in
            token.filter { $0 != " " && $0 != "\t" }.lowercased() == "websocket"
        }
    }
}

extension Response {
    /// The Engine.IO server's answer as a Vapor response (status, headers and body as they are).
    convenience init(_ response: HTTPServerResponse) {
        var headers = HTTPHeaders()
        headers.reserveCapacity(response.head.headerFields.count)
        for field in response.head.headerFields { headers.add(name: field.name.rawName, value: field.value) }
        self.init(
            status: HTTPResponseStatus(statusCode: response.head.status.code, reasonPhrase: response.head.status.reasonPhrase),
            headers: headers,
            body: Body(buffer: response.body)
        )
    }
}
