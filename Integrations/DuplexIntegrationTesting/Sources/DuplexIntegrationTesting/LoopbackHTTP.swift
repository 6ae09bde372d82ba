import NIOCore
import NIOPosix
import Synchronization

/// A response read off the wire by ``LoopbackHTTP``.
public struct LoopbackHTTPResponse: Sendable, CustomStringConvertible {
    /// The status code.
    public var status: Int
    /// The header fields, in order.
    public var headers: [(name: String, value: String)]
    /// The body (up to `Content-Length` when there is one).
    public var body: [UInt8]

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The body split into Engine.IO v4 packets (protocol.md 4.1.4: 0x1E separators).
    public var packets: [String] {
        body.split(separator: 0x1E, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    }

    public var description: String { "HTTP \(status) \(text.prefix(200))" }
}

/// A raw HTTP/1.1 client over loopback, independent of the code under test: one request per
/// connection (`Connection: close`), the response read until the server closes the connection.
public enum LoopbackHTTP {
    /// Sends one request and returns the response.
    public static func request(
        _ method: String,
        _ target: String,
        host: String = "127.0.0.1",
        port: Int,
        headers: [(String, String)] = [],
        body: [UInt8] = []
    ) async throws -> LoopbackHTTPResponse {
        let collector = ResponseCollector(eventLoop: MultiThreadedEventLoopGroup.singleton.any())
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
            }
            .connect(host: host, port: port)
            .get()
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        var buffer = channel.allocator.buffer(capacity: head.utf8.count + body.count)
        buffer.writeString(head)
        buffer.writeBytes(body)
        try await channel.writeAndFlush(buffer)
        return try parse(try await collector.bytes.get())
    }

    static func parse(_ bytes: [UInt8]) throws -> LoopbackHTTPResponse {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let end = bytes.firstRange(of: separator) else {
            throw DeploymentCheckFailure("malformed HTTP response: \(String(decoding: bytes, as: UTF8.self))")
        }
        let headText = String(decoding: bytes[..<end.lowerBound], as: UTF8.self)
        var lines = headText.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw DeploymentCheckFailure("malformed HTTP status line: \(headText)")
        }
        let headers = lines.compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), String(line[line.index(after: colon)...].drop { $0 == " " }))
        }
        var body = Array(bytes[end.upperBound...])
        if let length = headers.first(where: { $0.name.lowercased() == "content-length" }).flatMap({ Int($0.value) }) {
            body = Array(body.prefix(length))
        }
        return LoopbackHTTPResponse(status: status, headers: headers, body: body)
    }
}

/// Collects every byte until the server closes the connection.
private final class ResponseCollector: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    private let promise: EventLoopPromise<[UInt8]>
    private let received = Mutex<[UInt8]>([])

    init(eventLoop: any EventLoop) {
        promise = eventLoop.makePromise()
    }

    var bytes: EventLoopFuture<[UInt8]> { promise.futureResult }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        received.withLock { $0.append(contentsOf: buffer.readableBytesView) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.succeed(received.withLock { $0 })
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
