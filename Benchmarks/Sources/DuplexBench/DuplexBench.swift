import ArgumentParser

/// `duplex-bench`: the WebSocket echo benchmark's tools, driven by `scripts/bench`.
@main
struct DuplexBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "duplex-bench",
        abstract: "WebSocket and Socket.IO benchmarks: a bare SwiftNIO echo server and load generators.",
        subcommands: [NIOEchoCommand.self, NIOSocketIOFloorCommand.self, LoadCommand.self, SocketIOLoadCommand.self]
    )
}
