import DuplexWebSocketCore
import NIOCore
import NIOPosix
import Synchronization

/// A thread-safe counter.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    var current: Int { value.load(ordering: .relaxed) }
    @discardableResult
    func increment() -> Int { value.add(1, ordering: .relaxed).newValue }
}

/// A hand-written TCP server on 127.0.0.1 whose every connection runs `handler`: the misbehaving
/// servers of the error-contract tests.
enum RawServer {
    struct Info: Sendable {
        let port: Int
        /// Connections accepted so far.
        let accepted: Counter
        func url(_ path: String = "/") -> String { "ws://127.0.0.1:\(port)\(path)" }
    }

    /// Listens (on `port`, or a free one) while `body` runs; then stops listening and cancels
    /// the handlers still running.
    static func withServer<T: Sendable>(
        port: Int = 0,
        receiveBufferSize: Int? = nil,
        handler: @escaping @Sendable (RawConnection) async throws -> Void,
        _ body: (Info) async throws -> T
    ) async throws -> T {
        let serverChannel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Set on the listening socket, so accepted sockets inherit it before the window is advertised.
            .serverChannelOption(.socketOption(.so_rcvbuf), value: receiveBufferSize ?? 0, if: receiveBufferSize != nil)
            .bind(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let info = Info(port: serverChannel.channel.localAddress?.port ?? 0, accepted: Counter())
        // The accept loop is never cancelled: it ends when the listening socket is closed, after
        // taking every connection accepted until then. An accepted connection left unconsumed in
        // the sequence would trap in NIO ("Deinited NIOAsyncWriter without calling finish()")
        // when a late client (a retry loop) connects while the server stops.
        let accepting = Task {
            try? await serverChannel.executeThenClose { connections in
                await withDiscardingTaskGroup { handlers in
                    do {
                        for try await connection in connections {
                            info.accepted.increment()
                            handlers.addTask {
                                try? await connection.executeThenClose { inbound, outbound in
                                    try await handler(
                                        RawConnection(role: .server, channel: connection.channel, inbound: inbound, outbound: outbound)
                                    )
                                }
                            }
                        }
                    } catch {}
                    handlers.cancelAll()
                }
            }
        }
        let result: Result<T, any Error>
        do {
            result = .success(try await body(info))
        } catch {
            result = .failure(error)
        }
        try? await serverChannel.channel.close()
        await accepting.value
        return try result.get()
    }
}

/// A hand-written TCP client: the misbehaving clients of the server tests.
enum RawClient {
    /// Connects to 127.0.0.1:`port` and runs `body` with the connection, then closes it.
    /// `receiveBufferSize` bounds the kernel's receive buffer (SO_RCVBUF), so that a client that
    /// does not read stalls its peer after little data, whatever the system's autotuning limits.
    static func withConnection<T: Sendable>(
        port: Int,
        receiveBufferSize: Int? = nil,
        _ body: (RawConnection) async throws -> T
    ) async throws -> T {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.so_rcvbuf), value: receiveBufferSize ?? 0, if: receiveBufferSize != nil)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await body(RawConnection(role: .client, channel: channel.channel, inbound: inbound, outbound: outbound))
        }
    }

    /// Sends `request` on a new connection and reads one response (nil if the server closed first).
    static func exchange(port: Int, _ request: String) async throws -> RawResponse? {
        try await withConnection(port: port) { connection in
            try await connection.write(request)
            return try await connection.readResponse()
        }
    }
}

extension ServerBootstrap {
    /// Sets a server channel option only when `condition` holds.
    func serverChannelOption<Option: ChannelOption>(_ option: Option, value: Option.Value, if condition: Bool) -> Self {
        condition ? serverChannelOption(option, value: value) : self
    }
}

extension ClientBootstrap {
    /// Sets a channel option only when `condition` holds.
    func channelOption<Option: ChannelOption>(_ option: Option, value: Option.Value, if condition: Bool) -> Self {
        condition ? channelOption(option, value: value) : self
    }
}
