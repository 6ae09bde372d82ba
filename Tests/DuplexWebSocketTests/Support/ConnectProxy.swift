import DuplexWebSocketCore
import NIOCore
import NIOPosix
import Synchronization

/// A tiny HTTP proxy that only speaks CONNECT (RFC 9110 §9.3.6): it records each request head,
/// answers 200 and relays bytes both ways, or answers with `refusal` when one is given.
final class ConnectProxy: Sendable {
    /// The heads of the CONNECT requests received, in order.
    var requests: [String] { recorded.withLock { $0 } }
    private let recorded = Mutex<[String]>([])
    private let refusal: String?

    /// - Parameter refusal: a whole HTTP response to answer every CONNECT with instead of 200.
    init(refusal: String? = nil) { self.refusal = refusal }

    /// Runs the proxy while `body` runs with its port.
    func run<T: Sendable>(_ body: (Int) async throws -> T) async throws -> T {
        try await RawServer.withServer(handler: { connection in try await self.serve(connection) }) { info in
            try await body(info.port)
        }
    }

    private func serve(_ client: RawConnection) async throws {
        guard let head = try await client.readHead() else { return }
        recorded.withLock { $0.append(head) }
        if let refusal {
            try await client.write(refusal)
            _ = await client.readToEnd()
            return
        }
        // "CONNECT host:port HTTP/1.1": the authority is the second token.
        let parts = head.split(separator: "\r\n").first?.split(separator: " ") ?? []
        guard parts.count == 3, parts[0] == "CONNECT", let colon = parts[1].lastIndex(of: ":"),
            let port = Int(parts[1][parts[1].index(after: colon)...])
        else {
            try await client.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return
        }
        let upstream = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await upstream.executeThenClose { upstreamInbound, upstreamOutbound in
            try await client.write("HTTP/1.1 200 Connection Established\r\n\r\n")
            try await withThrowingTaskGroup(of: Void.self) { group in
                let clientChannel = client.channel
                let clientOutbound = client.outbound
                // Server to client, in a child task.
                group.addTask {
                    do {
                        for try await chunk in upstreamInbound { try await clientOutbound.write(chunk) }
                    } catch {}
                    clientChannel.close(promise: nil)
                }
                // Client to server, here (bytes after the CONNECT head included).
                while let chunk = try? await client.readChunk() { try await upstreamOutbound.write(chunk) }
                upstream.channel.close(promise: nil)
                try await group.waitForAll()
            }
        }
    }
}
