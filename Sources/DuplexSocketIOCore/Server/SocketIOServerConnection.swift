import NIOCore

/// The server side of one Engine.IO session carrying Socket.IO: decodes its messages and tracks
/// which namespaces it has joined (socket.io `Client`), without I/O.
///
/// Feed every Engine.IO message to ``textReceived(_:)`` or ``binaryReceived(_:)``; each returns
/// what the server must do, if anything. Report the outcome of each ``Action/connect(namespace:auth:)``
/// with ``namespaceConnected(_:)`` or ``namespaceRefused(_:)``, and each server-side leave with
/// ``namespaceDisconnected(_:)``.
///
/// Rules (protocol.md 4.2.3–4.2.5, socket.io `Client#ondecoded`):
/// - A packet that does not decode closes the session (``Action/close(_:)``): "parse error".
/// - A CONNECT for a namespace already joined (or being joined), and any other packet for a
///   namespace not joined, close the session ("invalid state"). The first packet must
///   therefore be a CONNECT.
/// - Protocol v4 (Socket.IO 2.x on Engine.IO v3): the connection to `/` is implicit
///   (``start()`` returns it); a later CONNECT to `/` while it is joined is ignored.
public struct SocketIOServerConnection: Sendable {
    /// What the server must do about a message.
    public enum Action: Hashable, Sendable {
        /// Run the namespace's middlewares and accept or refuse the connection; `auth` is the
        /// CONNECT payload (an object or nil).
        case connect(namespace: String, auth: JSONValue?)
        /// An event (binary attachments already in place) for a joined namespace.
        case event(SocketIOPacket)
        /// An acknowledgement for a joined namespace.
        case ack(SocketIOPacket)
        /// The client left `namespace` ("client namespace disconnect").
        case disconnect(namespace: String)
        /// Close the whole Engine.IO session: the client broke the protocol.
        case close(SocketIOError)
    }

    private enum NamespaceState: Sendable {
        case connecting
        case connected
    }

    /// The protocol revision of the session.
    public let protocolVersion: SocketIOProtocolVersion
    private var decoder: SocketIOPacketDecoder
    private var namespaces: [String: NamespaceState] = [:]
    /// Whether a namespace connection has ever been accepted (ends the connect timeout).
    public private(set) var hasConnected = false
    /// Whether the session must be (or was) closed after a protocol violation.
    public private(set) var isClosed = false

    /// Creates the state of a new session.
    public init(
        protocolVersion: SocketIOProtocolVersion = .v5,
        maxAttachments: Int = 10,
        maxDepth: Int = JSONValue.defaultMaxDepth
    ) {
        self.protocolVersion = protocolVersion
        self.decoder = SocketIOPacketDecoder(
            protocolVersion: protocolVersion,
            maxAttachments: maxAttachments,
            maxDepth: maxDepth
        )
    }

    /// What to do as soon as the session opens: in protocol v4, connect to `/` (protocol.md
    /// 4.1.9: "Server connects the client to `/` right after `open`").
    public mutating func start() -> Action? {
        guard protocolVersion == .v4, namespaces["/"] == nil else { return nil }
        namespaces["/"] = .connecting
        return .connect(namespace: "/", auth: nil)
    }

    /// The namespaces joined (connected, not merely connecting).
    public var connectedNamespaces: [String] {
        namespaces.compactMap { $0.value == .connected ? $0.key : nil }
    }

    /// Whether `namespace` is joined.
    public func isConnected(_ namespace: String) -> Bool {
        namespaces[namespace] == .connected
    }

    /// A text message arrived.
    public mutating func textReceived(_ text: String) -> Action? {
        guard !isClosed else { return nil }
        do throws(SocketIOError) {
            return try handle(decoder.textReceived(text))
        } catch {
            return fail(error)
        }
    }

    /// A binary message arrived.
    public mutating func binaryReceived(_ buffer: ByteBuffer) -> Action? {
        guard !isClosed else { return nil }
        do throws(SocketIOError) {
            return try handle(decoder.binaryReceived(buffer))
        } catch {
            return fail(error)
        }
    }

    /// The server accepted the connection to `namespace`.
    public mutating func namespaceConnected(_ namespace: String) {
        namespaces[namespace] = .connected
        hasConnected = true
    }

    /// The server refused the connection to `namespace`; the client may try again.
    public mutating func namespaceRefused(_ namespace: String) {
        namespaces[namespace] = nil
    }

    /// The socket of `namespace` left it (server-side disconnect, or after a client DISCONNECT).
    public mutating func namespaceDisconnected(_ namespace: String) {
        namespaces[namespace] = nil
    }

    private mutating func handle(_ output: SocketIOPacketDecoder.Output) -> Action? {
        guard case .packet(let packet) = output else { return nil }
        let state = namespaces[packet.namespace]
        switch (packet.type, state) {
        case (.connect, nil):
            namespaces[packet.namespace] = .connecting
            return .connect(namespace: packet.namespace, auth: packet.data)
        case (.connect, .connected?) where protocolVersion == .v4 && packet.namespace == "/":
            // Socket.IO 2.x clients may still send `0` for the implicitly joined `/`.
            return nil
        case (.event, .connected?), (.binaryEvent, .connected?):
            return .event(packet)
        case (.ack, .connected?), (.binaryAck, .connected?):
            return .ack(packet)
        case (.disconnect, .connected?):
            namespaces[packet.namespace] = nil
            return .disconnect(namespace: packet.namespace)
        default:
            // socket.io Client#ondecoded: anything else is "invalid state".
            return fail(
                SocketIOError(
                    .invalidPacket,
                    "invalid state: \(packet.type) for namespace \(packet.namespace) "
                        + (state == nil ? "not joined" : "already joined")
                )
            )
        }
    }

    private mutating func fail(_ error: SocketIOError) -> Action {
        isClosed = true
        decoder.reset()
        return .close(error)
    }
}
