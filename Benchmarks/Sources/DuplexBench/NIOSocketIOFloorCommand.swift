import ArgumentParser
import NIOCore
import NIOPosix
import Synchronization

/// `duplex-bench nio-sio`: the Socket.IO benchmark's floor, a server written directly on
/// NIOWebSocket that does only what `sio-load` checks, and writes each broadcast's payload,
/// shared, to every client with one task per event loop.
struct NIOSocketIOFloorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nio-sio",
        abstract: "Run a bare SwiftNIO server answering sio-load's Socket.IO events (a floor, not a server).",
        discussion: """
            WebSocket only (any path); the open packet, CONNECT to `/`, `message` answered by \
            `message-back`, `broadcast` re-sent to every client. No pings, acknowledgements or \
            validation. Prints `listening on ws://HOST:PORT` on stdout once bound, then serves until killed.
            """
    )

    @OptionGroup var options: BareServerOptions

    func run() async throws {
        let group = self.options.makeEventLoopGroup()
        let namespace = FloorNamespace(group: group)
        let nextSid = Atomic<Int>(0)
        try await BareWebSocketServer.run(self.options, group: group) { _ in
            let sid = nextSid.wrappingAdd(1, ordering: .relaxed).newValue
            return SocketIOFloorHandler(namespace: namespace, sid: "floor\(sid)")
        }
    }
}
