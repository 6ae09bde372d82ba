import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

/// The entry point: runs Swift Concurrency's global executor on SwiftNIO's event loops (no
/// thread hop between a connection's task and its channel), then the command.
@main
enum DuplexMain {
    static func main() async {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let command: any ParsableCommand
        do {
            command = try DuplexCommand.parseAsRoot()
        } catch {
            exitAfterParsing(error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var syncCommand = command
                try syncCommand.run()
            }
        } catch {
            DuplexCommand.exit(withError: error)
        }
    }

    /// Help and version exit 0; a usage error exits with ``ExitStatus/usage`` (2, as the
    /// commands document) rather than ArgumentParser's 64.
    private static func exitAfterParsing(_ error: any Error) -> Never {
        let code = DuplexCommand.exitCode(for: error)
        guard code == .validationFailure else { DuplexCommand.exit(withError: error) }
        printError(DuplexCommand.fullMessage(for: error))
        Foundation.exit(ExitStatus.usage)
    }
}

/// `duplex`: servers, clients and test peers for WebSocket, Engine.IO and Socket.IO.
struct DuplexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "duplex",
        abstract: "Real-time communication for Swift: servers, clients and test peers.",
        subcommands: [ServeCommand.self, WebSocketClientCommand.self, WebSocketEchoCommand.self, EngineIOEchoCommand.self, EngineIOClientCommand.self, SocketIOEchoCommand.self, SocketIOClientCommand.self]
    )
}
