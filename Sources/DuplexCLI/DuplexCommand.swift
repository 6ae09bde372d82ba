import ArgumentParser

/// `duplex`: servers, clients and test peers for WebSocket (and, later, Engine.IO / Socket.IO).
@main
struct DuplexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "duplex",
        abstract: "Real-time communication for Swift: servers, clients and test peers.",
        subcommands: [ServeCommand.self, WebSocketClientCommand.self, WebSocketEchoCommand.self]
    )
}
