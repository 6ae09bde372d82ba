import DuplexSocketIOCore
import Synchronization

/// An event a client sent to a socket: its name, arguments, and the acknowledgement to answer
/// when the client asked for one.
public struct SocketIOEvent: Sendable {
    /// The event name (a numeric name is given as its decimal text).
    public let name: String
    /// The arguments; ``JSONValue/binary(_:)`` values are the attachments.
    public let arguments: [JSONValue]
    /// The socket the event arrived on.
    public let socket: SocketIOSocket
    private let acknowledgement: Acknowledgement?

    init(name: String, arguments: [JSONValue], socket: SocketIOSocket, ackID: UInt64?) {
        self.name = name
        self.arguments = arguments
        self.socket = socket
        self.acknowledgement = ackID.map(Acknowledgement.init(id:))
    }

    /// Whether the client asked for an acknowledgement.
    public var expectsAcknowledgement: Bool { acknowledgement != nil }

    /// Argument `index` decoded as `T` (a missing argument decodes as `null`).
    ///
    /// - Throws: ``SocketIOError/Code/decodingFailed``.
    public func argument<T: Decodable>(_ index: Int, as type: T.Type = T.self) throws(SocketIOError) -> T {
        let value = arguments.indices.contains(index) ? arguments[index] : .null
        return try value.decode(as: T.self)
    }

    /// Sends the acknowledgement with `arguments` (protocol.md 4.2.6). Only the first call
    /// sends anything; without a requested acknowledgement it does nothing.
    public func ack(_ arguments: JSONValue...) {
        ack(arguments: arguments)
    }

    /// Sends the acknowledgement with `arguments`. Only the first call sends anything.
    public func ack(arguments: [JSONValue]) {
        guard let acknowledgement, acknowledgement.claim() else { return }
        socket.sendAck(id: acknowledgement.id, arguments: arguments)
    }

    /// Sends the acknowledgement with one argument converted from `value`.
    ///
    /// - Throws: ``SocketIOError/Code/encodingFailed``.
    public func ack(encoding value: some Encodable) throws(SocketIOError) {
        ack(arguments: [try JSONValue(encoding: value)])
    }

    /// Makes sure an acknowledgement is sent at most once, whoever calls it.
    private final class Acknowledgement: Sendable {
        let id: UInt64
        private let sent = Atomic<Bool>(false)

        init(id: UInt64) { self.id = id }

        func claim() -> Bool {
            !sent.exchange(true, ordering: .acquiringAndReleasing)
        }
    }
}
