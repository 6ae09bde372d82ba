import ArgumentParser
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

    /// Bounds that never bite in the benchmark but keep the server total, like a real one.
    private static let maxMessageSize = 1 << 26
    private static let maxFragmentsPerMessage = 1 << 16

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: self.threads ?? System.coreCount)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                Self.configureUpgradePipeline(channel)
            }
            .bind(host: self.host, port: self.port)
            .get()
        guard let address = channel.localAddress, let boundPort = address.port else {
            throw ValidationError("the server socket has no local address")
        }
        print("listening on ws://\(address.ipAddress ?? self.host):\(boundPort)")
        // stdout is a file or pipe under scripts/bench: flush so the line is seen now (nil flushes all streams).
        fflush(nil)
        try await channel.closeFuture.get()
    }

    /// HTTP/1.1 until the RFC 6455 §4.2 handshake completes, then frames: decoder, encoder and
    /// protocol error handling come from `NIOWebSocketServerUpgrader` itself.
    private static func configureUpgradePipeline(_ channel: any Channel) -> EventLoopFuture<Void> {
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: Self.maxMessageSize,
            automaticErrorHandling: true,
            shouldUpgrade: { channel, _ in
                channel.eventLoop.makeSucceededFuture(HTTPHeaders())
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        NIOWebSocketFrameAggregator(
                            minNonFinalFragmentSize: 0,
                            maxAccumulatedFrameCount: Self.maxFragmentsPerMessage,
                            maxAccumulatedFrameSize: Self.maxMessageSize
                        ),
                        EchoFrameHandler()
                    )
                }
            }
        )
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in })
            )
        }
    }
}
