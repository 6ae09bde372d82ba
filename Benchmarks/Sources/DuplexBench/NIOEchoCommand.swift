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

    @Option(help: "Address to bind.")
    var host = "127.0.0.1"

    @Option(help: "Port to bind; 0 picks a free one.")
    var port = 0

    @Option(help: "Event loop threads (default: one per core, like MultiThreadedEventLoopGroup.singleton).")
    var threads: Int?

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: self.threads ?? System.coreCount)
        try await BareWebSocketServer.run(host: self.host, port: self.port, group: group) { _ in
            EchoFrameHandler()
        }
    }
}
