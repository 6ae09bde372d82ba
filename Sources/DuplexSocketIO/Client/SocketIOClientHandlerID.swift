/// Identifies a handler registered with ``SocketIOClientSocket/on(_:_:)`` and its siblings, so
/// that ``SocketIOClientSocket/off(_:)`` can remove exactly that handler (Swift closures cannot
/// be compared, unlike the JavaScript functions `off` takes).
public struct SocketIOClientHandlerID: Hashable, Sendable {
    let rawValue: UInt64
}
