/// Thrown by a connection middleware to refuse a namespace connection: the client receives
/// CONNECT_ERROR `{"message": message, "data": data}` (protocol.md 4.2.5; a plain `message`
/// string for protocol v4 clients).
///
/// Any other error thrown by a middleware refuses with the message `"Connection refused"` and
/// no data, so internal details never reach the client.
public struct SocketIOConnectionRefusal: Error, Hashable, Sendable {
    /// The `message` of the CONNECT_ERROR.
    public var message: String
    /// The optional `data` of the CONNECT_ERROR.
    public var data: JSONValue?

    /// Creates a refusal.
    public init(_ message: String, data: JSONValue? = nil) {
        self.message = message
        self.data = data
    }
}
