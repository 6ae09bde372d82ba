import HTTPTypes
import NIOCore

/// Parses the HTTP/1.1 response head of an opening handshake (RFC 6455 §4.1, RFC 9112 §4-5),
/// incrementally and within limits, so that each way a server can fail maps to one documented
/// ``WebSocketError`` code.
public struct HTTPResponseHeadParser: Sendable {
    /// The largest head (status line + headers) accepted, in bytes.
    public var maxHeadSize: Int
    /// The most header fields accepted.
    public var maxHeaderCount: Int
    private var scannedUpTo = 0

    /// Creates a parser with the given limits.
    public init(maxHeadSize: Int = 16 * 1024, maxHeaderCount: Int = 128) {
        self.maxHeadSize = maxHeadSize
        self.maxHeaderCount = maxHeaderCount
    }

    /// Parses the head once it is complete, consuming its bytes; returns nil if more are needed.
    public mutating func parse(_ buffer: inout ByteBuffer) throws(WebSocketError) -> HTTPResponse? {
        let view = buffer.readableBytesView
        // Fail fast on a peer that does not speak HTTP at all.
        let prefix = Array("HTTP/".utf8)
        let checked = min(view.count, prefix.count)
        if !view.prefix(checked).elementsEqual(prefix.prefix(checked)) {
            throw WebSocketError(.invalidHandshakeResponse, "the server's response is not HTTP")
        }
        guard let headEnd = findHeadEnd(view) else {
            if view.count > maxHeadSize {
                throw WebSocketError(.headersTooLarge, "response head exceeds \(maxHeadSize) bytes")
            }
            return nil
        }
        guard headEnd.count <= maxHeadSize else {
            throw WebSocketError(.headersTooLarge, "response head exceeds \(maxHeadSize) bytes")
        }
        let head = String(decoding: view.prefix(headEnd.count), as: UTF8.self)
        buffer.moveReaderIndex(forwardBy: headEnd.count + headEnd.terminatorLength)
        scannedUpTo = 0
        return try Self.parseHead(head, maxHeaderCount: maxHeaderCount)
    }

    /// The error for a transport that ended before the head was complete: "connection closed
    /// while reading the status line" (or the headers).
    public func endOfInput(buffered: ByteBuffer) -> WebSocketError {
        if buffered.readableBytes == 0 {
            return WebSocketError(.invalidHandshakeResponse, "connection closed before the status line", cause: EndOfStream())
        }
        let sawStatusLine = buffered.readableBytesView.contains(UInt8(ascii: "\n"))
        return WebSocketError(
            .invalidHandshakeResponse,
            sawStatusLine ? "connection closed while reading the response headers" : "connection closed while reading the status line",
            cause: EndOfStream()
        )
    }

    private mutating func findHeadEnd(_ view: ByteBufferView) -> (count: Int, terminatorLength: Int)? {
        let lf = UInt8(ascii: "\n")
        var index = view.startIndex + max(0, scannedUpTo - 3)
        while let newline = view[index...].firstIndex(of: lf) {
            // A blank line ends the head: "\n\n" or "\n\r\n" (bare LF tolerated, RFC 9112 §2.2).
            let next = newline + 1
            if next < view.endIndex, view[next] == lf { return (next - view.startIndex - 1, 2) }
            if next + 1 < view.endIndex, view[next] == UInt8(ascii: "\r"), view[next + 1] == lf {
                return (next - view.startIndex - 1, 3)
            }
            if next >= view.endIndex || (next + 1 >= view.endIndex && view[next] == UInt8(ascii: "\r")) { break }
            index = next
        }
        scannedUpTo = view.count
        return nil
    }

    /// Parses a status line and header lines (without the final blank line).
    static func parseHead(_ head: String, maxHeaderCount: Int) throws(WebSocketError) -> HTTPResponse {
        // Split on LF bytes: in Swift "\r\n" is one Character, so a String split would not see it.
        var lines = head.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
            Substring(line.last == UInt8(ascii: "\r") ? line.dropLast() : line)
        }
        guard !lines.isEmpty else { throw WebSocketError(.invalidHandshakeResponse, "empty response") }
        let statusLine = lines.removeFirst()
        // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0] == "HTTP/1.1" || parts[0] == "HTTP/1.0",
            parts[1].count == 3, let code = Int(parts[1]), (100...599).contains(code)
        else {
            throw WebSocketError(.invalidHandshakeResponse, "malformed status line \"\(statusLine.prefix(64))\"")
        }
        let reason = parts.count == 3 ? String(parts[2]) : ""
        guard lines.count <= maxHeaderCount else {
            throw WebSocketError(.headersTooLarge, "more than \(maxHeaderCount) header fields")
        }
        var fields = HTTPFields()
        for line in lines {
            guard let colon = line.firstIndex(of: ":"),
                let name = HTTPField.Name(String(line[..<colon])),
                line.first != " " && line.first != "\t"
            else {
                throw WebSocketError(.invalidHandshakeResponse, "malformed header line \"\(line.prefix(64))\"")
            }
            let value = line[line.index(after: colon)...].trimmingASCIIWhitespace()
            fields.append(HTTPField(name: name, value: String(value)))
        }
        return HTTPResponse(status: .init(code: code, reasonPhrase: reason), headerFields: fields)
    }
}

/// The transport ended (EOF); the `cause` of handshake errors that happen because of it.
public struct EndOfStream: Error, Hashable, Sendable, CustomStringConvertible {
    /// Creates the marker error.
    public init() {}
    public var description: String { "end of stream" }
}

extension Substring {
    func trimmingASCIIWhitespace() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return result
    }
}
