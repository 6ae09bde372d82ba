import DuplexEngineIO
import DuplexSocketIO
import DuplexSocketIOCore
import NIOCore
import Testing

/// The execution model documented on `SocketIOServer`: a session's reader and its sockets'
/// handlers run on the session's event loop (the WebSocket's channel loop), so an event read by
/// the channel reaches its handler, and the reply the channel, without a thread hop.
@Suite("Socket.IO server: handlers run on the session's event loop")
struct SocketIOServerEventLoopTests {
    @Test(
        "connection and event handlers run on the Engine.IO session's loop, also after an await",
        arguments: [EngineIOTransport.websocket, .polling])
    func handlersRunOnSessionLoop(transport: EngineIOTransport) async throws {
        try await SocketIOServerFixture.run(configure: { io in
            io.sockets.onConnection { socket in
                let loop = socket.engineIOSocket.eventLoop
                let connectedOnLoop = loop.inEventLoop
                socket.on("where") { event in
                    var onLoop = connectedOnLoop && loop.inEventLoop
                    try? await Task.sleep(for: .milliseconds(1))
                    onLoop = onLoop && loop.inEventLoop
                    event.ack(arguments: [.bool(onLoop)])
                }
            }
        }) { fixture in
            try await fixture.withClient(transport: transport) { client in
                _ = try await client.connect()
                try await client.send(text: "21[\"where\"]")
                #expect(try await client.next() == .ack([true], ackID: 1))
            }
        }
    }
}
