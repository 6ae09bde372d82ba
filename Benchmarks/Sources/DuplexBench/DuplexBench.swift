import ArgumentParser

/// `duplex-bench`: the WebSocket echo benchmark's tools, driven by `scripts/bench`.
@main
struct DuplexBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "duplex-bench",
        abstract: "WebSocket echo benchmark: a bare SwiftNIO echo server and a load generator.",
        subcommands: [NIOEchoCommand.self, LoadCommand.self]
    )
}
