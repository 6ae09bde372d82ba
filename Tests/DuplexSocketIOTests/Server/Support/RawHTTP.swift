import NIOCore
import NIOPosix

/// A minimal HTTP/1.1 client for driving Engine.IO polling by hand (a client that stops
/// polling, protocol v3 framing).
enum RawHTTP {
    struct Response: Sendable {
        var status: Int
        var body: String
    }

    static func request(_ method: String, _ target: String, port: Int, body: String = "") async throws -> Response {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        head += "Content-Length: \(body.utf8.count)\r\n"
        if !body.isEmpty { head += "Content-Type: text/plain;charset=UTF-8\r\n" }
        head += "\r\n" + body
        var received = ByteBuffer()
        try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: head))
            for try await chunk in inbound { received.writeImmutableBuffer(chunk) }
        }
        let bytes = Array(received.readableBytesView)
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let split = firstIndex(of: separator, in: bytes[...]) else { return Response(status: 0, body: "") }
        let headers = String(decoding: bytes[..<split], as: UTF8.self).lowercased()
        let statusLine = headers.split(separator: "\r\n").first ?? ""
        let status = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        var payload = bytes[(split + separator.count)...]
        if headers.contains("transfer-encoding: chunked") { payload = dechunk(payload)[...] }
        return Response(status: status, body: String(decoding: payload, as: UTF8.self))
    }

    private static func firstIndex(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var index = haystack.startIndex
        while index + needle.count <= haystack.endIndex {
            if haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    private static func dechunk(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        var rest = bytes
        let lineEnd: [UInt8] = [13, 10]
        while let end = firstIndex(of: lineEnd, in: rest),
            let size = Int(String(decoding: rest[..<end], as: UTF8.self), radix: 16), size > 0
        {
            let start = end + 2
            let stop = min(start + size, rest.endIndex)
            output += rest[start..<stop]
            rest = rest[min(stop + 2, rest.endIndex)...]
        }
        return output
    }
}
