import DuplexWebSocketCore
import Foundation
import HTTPTypes
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One TCP connection driven byte by byte, for peers that must misbehave in ways the library
/// never would. Used from one task only.
final class RawConnection {
    /// The side this end plays: `.client` masks the frames it writes and expects unmasked ones.
    let role: Role
    let channel: any Channel
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    /// Bytes read but not consumed yet.
    var buffered = ByteBuffer()
    private(set) var sawEndOfStream = false

    init(
        role: Role, channel: any Channel, inbound: NIOAsyncChannelInboundStream<ByteBuffer>,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) {
        self.role = role
        self.channel = channel
        self.outbound = outbound
        self.iterator = inbound.makeAsyncIterator()
    }

    // MARK: Reading

    /// Appends the next chunk to ``buffered``; false at the end of the stream.
    @discardableResult
    func readMore() async throws -> Bool {
        guard !sawEndOfStream else { return false }
        guard var chunk = try await iterator.next() else {
            sawEndOfStream = true
            return false
        }
        if buffered.readerIndex > 1 << 20 { buffered.discardReadBytes() }
        buffered.writeBuffer(&chunk)
        return true
    }

    /// The next chunk of bytes (what is buffered first); nil at the end of the stream.
    func readChunk() async throws -> ByteBuffer? {
        if buffered.readableBytes == 0, try await !readMore() { return nil }
        defer { buffered.clear() }
        return buffered
    }

    /// Reads an HTTP head up to its blank line and returns it without the blank line; nil if
    /// the stream ended first.
    func readHead() async throws -> String? {
        while true {
            if let end = buffered.readableBytesView.firstRange(of: Array("\r\n\r\n".utf8)) {
                let length = end.lowerBound - buffered.readerIndex
                let head = buffered.readString(length: length) ?? ""
                buffered.moveReaderIndex(forwardBy: 4)
                return head
            }
            guard try await readMore() else { return nil }
        }
    }

    /// Reads an HTTP response (head, then a `Content-Length` body); nil if the stream ended before
    /// a complete head.
    func readResponse() async throws -> RawResponse? {
        var parser = HTTPResponseHeadParser(maxHeadSize: 1 << 20, maxHeaderCount: 10_000)
        while true {
            if let head = try parser.parse(&buffered) {
                let length = head.headerFields[.contentLength].flatMap { Int($0) } ?? 0
                while buffered.readableBytes < length {
                    guard try await readMore() else { break }
                }
                let body = buffered.readString(length: min(length, buffered.readableBytes)) ?? ""
                return RawResponse(head: head, body: body)
            }
            guard try await readMore() else { return nil }
        }
    }

    /// Reads the next WebSocket frame; nil at the end of the stream.
    func readFrame() async throws -> Frame? {
        let parser = FrameParser(role: role, maxFrameSize: 1 << 24)
        while true {
            if let frame = try parser.nextFrame(from: &buffered) { return frame }
            guard try await readMore() else { return nil }
        }
    }

    /// Reads until the end of the stream. Returns what arrived and the error that ended the
    /// stream (a reset), if any.
    func readToEnd() async -> (bytes: ByteBuffer, error: (any Error)?) {
        do {
            while try await readMore() {}
            return (buffered, nil)
        } catch {
            return (buffered, error)
        }
    }

    // MARK: Writing

    func write(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    func write(_ bytes: ByteBuffer) async throws {
        try await outbound.write(bytes)
    }

    /// Writes one frame, masked when this end is a client (RFC 6455 §5.3) unless `masked` says otherwise.
    func writeFrame(_ opcode: Opcode, _ payload: ByteBuffer = ByteBuffer(), fin: Bool = true, rsv1: Bool = false, masked: Bool? = nil)
        async throws
    {
        let (header, body) = FrameSerializer.serialize(
            opcode: opcode,
            fin: fin,
            rsv1: rsv1,
            payload: payload,
            maskKey: (masked ?? (role == .client)) ? UInt32.random(in: 0...UInt32.max) : nil,
            allocator: channel.allocator
        )
        try await outbound.write(header)
        if let body { try await outbound.write(body) }
    }

    /// Sends a close frame with `code` and `reason`.
    func writeClose(_ code: CloseCode, reason: String = "") async throws {
        var payload = ByteBuffer()
        payload.writeInteger(code.rawValue)
        payload.writeString(reason)
        try await writeFrame(.close, payload)
    }

    // MARK: Handshakes

    /// Client side: sends an opening handshake for `path` and reads the response.
    func sendUpgradeRequest(path: String = "/", extraHeaders: String = "") async throws -> RawResponse? {
        let key = HandshakeKey.random()
        try await write(
            "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\(extraHeaders)\r\n"
        )
        var parser = HTTPResponseHeadParser()
        while true {
            if let head = try parser.parse(&buffered) { return RawResponse(head: head, body: "") }
            guard try await readMore() else { return nil }
        }
    }

    /// Server side: reads the client's request and answers 101 with a correct
    /// `Sec-WebSocket-Accept`, `Upgrade` and `Connection` (minus those named in `omitting`), plus
    /// `extraHeaders` (each line ending in CRLF).
    func acceptUpgrade(omitting: Set<String> = [], acceptOverride: String? = nil, extraHeaders: String = "") async throws {
        guard let head = try await readHead() else { return }
        let key = Self.header("Sec-WebSocket-Key", in: head) ?? ""
        var response = "HTTP/1.1 101 Switching Protocols\r\n"
        if !omitting.contains("Upgrade") { response += "Upgrade: websocket\r\n" }
        if !omitting.contains("Connection") { response += "Connection: Upgrade\r\n" }
        if !omitting.contains("Sec-WebSocket-Accept") {
            response += "Sec-WebSocket-Accept: \(acceptOverride ?? HandshakeKey.accept(for: key))\r\n"
        }
        try await write(response + extraHeaders + "\r\n")
    }

    /// The value of header `name` in a raw head, compared case-insensitively.
    static func header(_ name: String, in head: String) -> String? {
        for line in head.split(separator: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            if line[..<colon].lowercased() == name.lowercased() {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    // MARK: Closing

    /// Closes the connection with a TCP reset (RST) instead of a FIN: SO_LINGER with a zero timeout.
    func reset() async throws {
        if let provider = channel as? any SocketOptionProvider {
            try await provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
        }
        try await channel.close()
    }
}

/// An HTTP response read by a ``RawConnection``.
struct RawResponse: Sendable {
    var head: HTTPResponse
    var body: String
    var status: Int { head.status.code }
    func header(_ name: String) -> String? {
        HTTPField.Name(name).flatMap { head.headerFields[$0] }
    }
}
