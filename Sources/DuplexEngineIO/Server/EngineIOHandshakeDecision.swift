import HTTPTypes

/// What ``EngineIOServerConfiguration/allowRequest`` decides about a handshake.
public struct EngineIOHandshakeDecision: Sendable {
    enum Kind: Sendable {
        case allow
        case refuse(status: HTTPResponse.Status, message: String)
    }

    let kind: Kind

    /// Open the session.
    public static let allow = EngineIOHandshakeDecision(kind: .allow)

    /// Refuse the handshake: the client gets `status` (default 403) and
    /// `{"code":4,"message":"<message>"}` (the reference server's `allowRequest` refusal,
    /// wire code 4 "Forbidden"). Over WebSocket, the refusal replaces the 101.
    public static func refuse(status: HTTPResponse.Status = .forbidden, message: String = "Forbidden") -> Self {
        EngineIOHandshakeDecision(kind: .refuse(status: status, message: message))
    }
}
