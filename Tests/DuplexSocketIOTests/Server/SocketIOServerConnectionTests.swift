import DuplexSocketIOCore
import NIOCore
import Testing

/// The sans-I/O session rules (protocol.md 4.2.3–4.2.5, socket.io `Client#ondecoded`).
@Suite("SocketIOServerConnection")
struct SocketIOServerConnectionTests {
    private func isClose(_ action: SocketIOServerConnection.Action?) -> Bool {
        if case .close? = action { return true }
        return false
    }

    @Test(
        "4.2.5: the server must close the connection if the first packet is not a CONNECT",
        arguments: [
            "2[\"foo\"]", "3/admin,13[\"bar\"]", "1", "1/admin,",
        ])
    func firstPacketMustBeConnect(text: String) {
        var connection = SocketIOServerConnection()
        #expect(isClose(connection.textReceived(text)))
        #expect(connection.isClosed)
        // Nothing more is decoded once closed.
        #expect(connection.textReceived("0") == nil)
    }

    @Test(
        "4.2.3: malformed packets are decode errors that close the connection",
        arguments: [
            "4abc", "42{}", "42abc[...]", "9", "", "5-[\"a\"]", "2[\"connect\"]", "0[1]",
        ])
    func malformedPacketsClose(text: String) {
        var connection = SocketIOServerConnection()
        _ = connection.textReceived("0")
        connection.namespaceConnected("/")
        #expect(isClose(connection.textReceived(text)))
    }

    @Test("4.2.3 examples: CONNECT to / and to /admin with auth")
    func connectExamples() {
        var connection = SocketIOServerConnection()
        #expect(connection.textReceived("0") == .connect(namespace: "/", auth: nil))
        #expect(connection.textReceived("0/admin,{\"token\":\"123\"}") == .connect(namespace: "/admin", auth: ["token": "123"]))
        // ref impl: a namespace that runs to the end of the string.
        #expect(connection.textReceived("0/custom") == .connect(namespace: "/custom", auth: nil))
    }

    @Test("4.2.5: a CONNECT for a namespace being joined or joined closes the connection (invalid state)")
    func duplicateConnectCloses() {
        var connecting = SocketIOServerConnection()
        _ = connecting.textReceived("0")
        #expect(isClose(connecting.textReceived("0")))

        var joined = SocketIOServerConnection()
        _ = joined.textReceived("0")
        joined.namespaceConnected("/")
        #expect(isClose(joined.textReceived("0")))
    }

    @Test("4.2.5: a packet for a namespace not joined closes the connection, even with others joined")
    func packetForOtherNamespaceCloses() {
        var connection = SocketIOServerConnection()
        _ = connection.textReceived("0")
        connection.namespaceConnected("/")
        #expect(connection.hasConnected)
        #expect(isClose(connection.textReceived("2/admin,[\"bar\"]")))
    }

    @Test("4.2.6 and 4.2.7: events, acks (id 0 valid) and DISCONNECT on a joined namespace")
    func joinedNamespacePackets() {
        var connection = SocketIOServerConnection()
        _ = connection.textReceived("0/admin,")
        connection.namespaceConnected("/admin")
        #expect(connection.textReceived("2/admin,[\"bar\"]") == .event(.event("bar", namespace: "/admin")))
        #expect(connection.textReceived("3/admin,0[\"x\"]") == .ack(.ack(["x"], namespace: "/admin", ackID: 0)))
        #expect(connection.textReceived("1/admin,") == .disconnect(namespace: "/admin"))
        #expect(!connection.isConnected("/admin"))
        // After leaving, the namespace can be joined again.
        #expect(connection.textReceived("0/admin,") == .connect(namespace: "/admin", auth: nil))
    }

    @Test("4.2.5: a refused namespace may be tried again")
    func refusedNamespaceCanRetry() {
        var connection = SocketIOServerConnection()
        _ = connection.textReceived("0/x,")
        connection.namespaceRefused("/x")
        #expect(!connection.hasConnected)
        #expect(connection.textReceived("0/x,") == .connect(namespace: "/x", auth: nil))
    }

    @Test("4.2.4: a binary event is delivered once its attachments arrived")
    func binaryReassembly() {
        var connection = SocketIOServerConnection()
        _ = connection.textReceived("0")
        connection.namespaceConnected("/")
        #expect(connection.textReceived("51-[\"baz\",{\"_placeholder\":true,\"num\":0}]") == nil)
        let bytes = ByteBuffer(bytes: [1, 2, 3])
        #expect(connection.binaryReceived(bytes) == .event(.event("baz", [.binary(bytes)])))
        // Binary data with no header pending is an error.
        #expect(isClose(connection.binaryReceived(bytes)))
    }

    @Test("4.2.3: more attachments than maxAttachments close the connection")
    func attachmentLimit() {
        var connection = SocketIOServerConnection(maxAttachments: 2)
        _ = connection.textReceived("0")
        connection.namespaceConnected("/")
        guard case .close(let error)? = connection.textReceived("53-[\"a\"]") else {
            Issue.record("expected close")
            return
        }
        #expect(error.code == .tooManyAttachments)
    }

    @Test("4.1.9 / 4.2.9: protocol v4 joins / implicitly, with auth from the namespace query")
    func protocolV4() {
        var connection = SocketIOServerConnection(protocolVersion: .v4)
        #expect(connection.start() == .connect(namespace: "/", auth: nil))
        #expect(connection.start() == nil)
        connection.namespaceConnected("/")
        // Socket.IO 2.x may still send `0` for `/`: ignored, not "invalid state".
        #expect(connection.textReceived("0") == nil)
        #expect(connection.textReceived("0/admin?token=abc,") == .connect(namespace: "/admin", auth: ["token": "abc"]))
        var v5 = SocketIOServerConnection()
        #expect(v5.start() == nil)
    }
}
