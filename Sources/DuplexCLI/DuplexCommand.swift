import ArgumentParser
import NIOCore
import NIOPosix

/// The entry point: runs Swift Concurrency's global executor on SwiftNIO's event loops (no
/// thread hop between a connection's task and its channel), then the command.
@main
enum DuplexMain {
    static func main() async {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await DuplexCommand.main()
    }
}

/// `duplex`: servers, clients and test peers for WebSocket (and, later, Engine.IO / Socket.IO).
struct DuplexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "duplex",
        abstract: "Real-time communication for Swift: servers, clients and test peers.",
        subcommands: [ServeCommand.self, WebSocketClientCommand.self, WebSocketEchoCommand.self, EngineIOEchoCommand.self, EngineIOClientCommand.self, SocketIOEchoCommand.self, SocketIOClientCommand.self]
    )
}
