import DuplexSocketIOCore

import Synchronization

/// The reply owed to an event that carried an ack id (socket.io-protocol v5, "Acknowledgement";
/// protocol.md 4.2.6). It is sent at most once: later calls do nothing.
public final class SocketIOClientAcknowledgement: Sendable {
    /// The ack id the server chose.
    public let id: UInt64
    private let sender: @Sendable ([JSONValue]) -> Void
    private let isSent = Mutex(false)

    init(id: UInt64, sender: @escaping @Sendable ([JSONValue]) -> Void) {
        self.id = id
        self.sender = sender
    }

    /// Whether the acknowledgement has been sent.
    public var hasBeenSent: Bool { isSent.withLock { $0 } }

    /// Sends the ACK with `arguments` (binary values travel as attachments). It is dropped if
    /// the connection it belongs to has ended meanwhile.
    public func send(_ arguments: [JSONValue] = []) {
        let first = isSent.withLock { sent in
            defer { sent = true }
            return !sent
        }
        if first { sender(arguments) }
    }
}
