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

/// The bare SwiftNIO WebSocket servers' common part (`nio-echo`, `nio-sio`): binds, upgrades every
/// request with `NIOWebSocketServerUpgrader`, and hands whole messages to a handler.
enum BareWebSocketServer {
    /// Bounds that never bite in the benchmark but keep the server total, like a real one.
    private static let maxMessageSize = 1 << 26
    private static let maxFragmentsPerMessage = 1 << 16

    /// Serves until the process is killed; prints `listening on ws://HOST:PORT` once bound.
    ///
    /// - Parameter makeHandler: the handler of one upgraded connection, called on its event loop.
    static func run(
        _ options: BareServerOptions,
        group: MultiThreadedEventLoopGroup,
        makeHandler: @escaping @Sendable (any Channel) -> any ChannelHandler
    ) async throws {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                Self.configureUpgradePipeline(channel, makeHandler: makeHandler)
            }
            .bind(host: options.host, port: options.port)
            .get()
        guard let address = channel.localAddress, let boundPort = address.port else {
            throw ValidationError("the server socket has no local address")
        }
        print("listening on ws://\(address.ipAddress ?? options.host):\(boundPort)")
        // stdout is a file or pipe under scripts/bench: flush so the line is seen now (nil flushes all streams).
        fflush(nil)
        try await channel.closeFuture.get()
    }

    /// HTTP/1.1 until the RFC 6455 §4.2 handshake completes, then frames: decoder, encoder and
    /// protocol error handling come from `NIOWebSocketServerUpgrader` itself.
    private static func configureUpgradePipeline(
        _ channel: any Channel,
        makeHandler: @escaping @Sendable (any Channel) -> any ChannelHandler
    ) -> EventLoopFuture<Void> {
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
                        makeHandler(channel)
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
