import ArgumentParser
import NIOCore
import NIOPosix

/// `duplex-bench nio-echo`: a WebSocket echo server written directly on NIOWebSocket, the floor
/// that any Swift WebSocket library on SwiftNIO pays.
struct NIOEchoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nio-echo",
        abstract: "Run a bare SwiftNIO WebSocket echo server.",
        discussion: "Prints `listening on ws://HOST:PORT` on stdout once bound, then serves until killed."
    )

    @OptionGroup var options: BareServerOptions

    func run() async throws {
        let group = self.options.makeEventLoopGroup()
        try await BareWebSocketServer.run(self.options, group: group) { _ in
            EchoFrameHandler()
        }
    }
}
