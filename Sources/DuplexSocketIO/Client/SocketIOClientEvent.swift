import DuplexSocketIOCore

/// An event received by a client socket (or, for ``SocketIOClientSocket/onAnyOutgoing(_:)``,
/// one it sent): its name, its arguments, and the means to acknowledge it when the sender asked
/// for a reply.
///
/// When the server uses connection state recovery it appends an offset string as the last
/// argument of most events (protocol.md 4.2.8); like the JavaScript client, that argument is
/// left in ``arguments``.
public struct SocketIOClientEvent: Sendable, CustomStringConvertible {
    /// The namespace the event belongs to.
    public let namespace: String
    /// The event name (a numeric name, which the protocol allows, in its JSON form).
    public let name: String
    /// The arguments after the name; binary attachments are ``JSONValue/binary(_:)`` values.
    public let arguments: [JSONValue]
    /// Set when the sender asked for an acknowledgement; reply with ``acknowledge(_:)``.
    public let acknowledgement: SocketIOClientAcknowledgement?

    init(namespace: String, name: String, arguments: [JSONValue], acknowledgement: SocketIOClientAcknowledgement?) {
        self.namespace = namespace
        self.name = name
        self.arguments = arguments
        self.acknowledgement = acknowledgement
    }

    /// Whether the sender asked for an acknowledgement.
    public var expectsAcknowledgement: Bool { acknowledgement != nil }

    /// Decodes argument `index` (the first by default) as `T`.
    ///
    /// - Throws: ``SocketIOError/Code/decodingFailed`` when the argument is missing or does not
    ///   match `T`.
    public func decodeArgument<T: Decodable>(_ type: T.Type = T.self, at index: Int = 0) throws(SocketIOError) -> T {
        guard arguments.indices.contains(index) else {
            throw SocketIOError(.decodingFailed, "event \"\(name)\" has no argument \(index)")
        }
        return try arguments[index].decode(as: T.self)
    }

    /// Sends the acknowledgement with `arguments`; does nothing when none was requested or one
    /// was already sent.
    public func acknowledge(_ arguments: [JSONValue] = []) {
        acknowledgement?.send(arguments)
    }

    /// Sends the acknowledgement with one argument encoded from `value`.
    ///
    /// - Throws: ``SocketIOError/Code/encodingFailed``.
    public func acknowledge(encoding value: some Encodable) throws(SocketIOError) {
        acknowledgement?.send([try JSONValue(encoding: value)])
    }

    public var description: String {
        "\(namespace) \"\(name)\" \(JSONValue.array(arguments).jsonString)" + (expectsAcknowledgement ? " (ack)" : "")
    }
}
