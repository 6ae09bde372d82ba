import NIOCore

/// Accumulates a server's response to the opening handshake and checks it, for both load
/// generators (`load` and `sio-load`).
struct HandshakeResponseReader {
    /// A handshake response longer than this is not a WebSocket server's.
    private static let maxResponseSize = 16 * 1024

    private var response: ByteBuffer

    init(allocator: ByteBufferAllocator) {
        self.response = allocator.buffer(capacity: 256)
    }

    /// Adds `buffer`'s bytes; once the header is complete and valid, returns the bytes that
    /// followed it (frames the server sent right after its response arrive in the same read).
    ///
    /// RFC 6455 §4.1's conditions that matter here are checked: status 101 and the expected
    /// `Sec-WebSocket-Accept`.
    mutating func read(_ buffer: inout ByteBuffer) throws(BenchFailure) -> ByteBuffer? {
        self.response.writeBuffer(&buffer)
        let view = self.response.readableBytesView
        guard let end = Self.endOfHeader(in: view) else {
            guard self.response.readableBytes < Self.maxResponseSize else {
                throw BenchFailure("no end to the handshake response after \(Self.maxResponseSize) bytes")
            }
            return nil
        }
        let header = String(decoding: view[view.startIndex..<end], as: UTF8.self)
        let lines = header.split(separator: "\r\n", omittingEmptySubsequences: false)
        guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1.1 101") else {
            throw BenchFailure("handshake refused: \(lines.first ?? "")")
        }
        let acceptHeader = lines.dropFirst().lazy.compactMap { line -> Substring? in
            guard let colon = line.firstIndex(of: ":"),
                line[..<colon].lowercased() == "sec-websocket-accept"
            else { return nil }
            return line[line.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" })
        }.first
        guard var accept = acceptHeader else {
            throw BenchFailure("no Sec-WebSocket-Accept in the handshake response: \(lines.joined(separator: " | "))")
        }
        while let last = accept.last, last == " " || last == "\t" {
            accept = accept.dropLast()
        }
        guard accept == ClientFrames.expectedAccept else {
            throw BenchFailure("wrong Sec-WebSocket-Accept in the handshake response: \(lines.joined(separator: " | "))")
        }
        self.response.moveReaderIndex(forwardBy: end - view.startIndex + 4)
        let rest = self.response
        self.response = ByteBuffer()
        return rest
    }

    /// The index of the "\r\n\r\n" that ends an HTTP header, if it has arrived.
    private static func endOfHeader(in view: ByteBufferView) -> ByteBufferView.Index? {
        var index = view.startIndex
        while index + 4 <= view.endIndex {
            if view[index] == 13, view[index + 1] == 10, view[index + 2] == 13, view[index + 3] == 10 {
                return index
            }
            index += 1
        }
        return nil
    }
}
