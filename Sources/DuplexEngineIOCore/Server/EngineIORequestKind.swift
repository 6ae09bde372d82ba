/// What an HTTP request to the Engine.IO endpoint asks for, once its syntax is valid
/// (see ``EngineIORequest/classify(transports:allowsEIO3:)``). Whether the `sid` names a live
/// session is for the server's session table to decide.
public enum EngineIORequestKind: Hashable, Sendable {
    /// `OPTIONS`: a CORS preflight.
    case preflight
    /// A GET without `sid` that opens a session: over long-polling (answer with the `open`
    /// packet), or over WebSocket (a WebSocket-only session: accept the upgrade, then send
    /// `open` as the first message).
    case handshake(transport: EngineIOTransport, protocolVersion: EngineIOProtocolVersion)
    /// A polling GET for a session: receive.
    case poll(sid: EngineIOSessionID)
    /// A polling POST for a session: send.
    case post(sid: EngineIOSessionID)
    /// A WebSocket upgrade for a session on polling (protocol.md 4.1.7).
    case upgrade(sid: EngineIOSessionID)
}
