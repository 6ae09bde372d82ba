import NIOCore

extension EngineIOError {
    /// The error for a non-200 answer to a client's request: ``Code/handshakeRejected`` with
    /// ``response`` filled from the status and, when the body is the server's JSON error
    /// object `{"code":N,"message":"…"}` (protocol.md 4.1.1), its code and message.
    public static func rejection(status: Int, body: ByteBuffer?) -> EngineIOError {
        var response = Response(status: status)
        if let body, body.readableBytes <= 4096,
            case .object(let object)? = JSONValue.parse(String(buffer: body))
        {
            if case .number(let code)? = object["code"], code >= 0, code < 1000, code.rounded(.towardZero) == code {
                response.wireCode = Int(code)
            }
            if case .string(let message)? = object["message"] { response.message = message }
        }
        let detail = response.message.map { ": \($0)" } ?? ""
        return EngineIOError(.handshakeRejected, "The server answered HTTP \(status)\(detail)", response: response)
    }
}
