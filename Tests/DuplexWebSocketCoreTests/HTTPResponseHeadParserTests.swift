import HTTPTypes
import NIOCore
import Testing

@testable import DuplexWebSocketCore

private let switching = """
    HTTP/1.1 101 Switching Protocols\r
    Upgrade: websocket\r
    Connection: Upgrade\r
    Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r
    \r

    """

/// Parses `text` in one call: the response, or the error code.
private func parseOnce(_ text: String, parser: HTTPResponseHeadParser = HTTPResponseHeadParser()) -> Result<HTTPResponse?, WebSocketError> {
    var parser = parser
    var buffer = ByteBuffer(string: text)
    do {
        return .success(try parser.parse(&buffer))
    } catch {
        return .failure(error)
    }
}

private func errorCode(_ result: Result<HTTPResponse?, WebSocketError>) -> WebSocketError.Code? {
    if case .failure(let error) = result { return error.code }
    return nil
}

@Suite("RFC 6455 §4.1 / RFC 9112 §4-5: parsing the handshake response head")
struct HTTPResponseHeadParserTests {
    @Test("a complete 101 response")
    func switchingProtocols() throws {
        let response = try #require(try parseOnce(switching).get())
        #expect(response.status.code == 101)
        #expect(response.status.reasonPhrase == "Switching Protocols")
        #expect(response.headerFields[.upgrade] == "websocket")
        #expect(response.headerFields[.connection] == "Upgrade")
        #expect(response.headerFields[.secWebSocketAccept] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(response.headerFields.count == 3)
    }

    @Test("fed one byte at a time, the response comes out at the last byte of the blank line", arguments: [false, true])
    func byteAtATime(bareLF: Bool) throws {
        let text = bareLF ? switching.replacingCRLF() : switching
        let bytes = Array(text.utf8)
        var parser = HTTPResponseHeadParser()
        var buffer = ByteBuffer()
        var response: HTTPResponse?
        for (index, byte) in bytes.enumerated() {
            buffer.writeInteger(byte)
            if let parsed = try parser.parse(&buffer) {
                #expect(index == bytes.count - 1)
                response = parsed
            }
        }
        #expect(response?.status.code == 101)
        #expect(response?.headerFields[.secWebSocketAccept] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(buffer.readableBytes == 0)
    }

    @Test(
        "RFC 9112 §2.2: CRLF, bare LF and mixed line endings",
        arguments: [
            "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n\r\n",
            "HTTP/1.1 101 OK\nUpgrade: websocket\n\n",
            "HTTP/1.1 101 OK\r\nUpgrade: websocket\n\r\n",
            "HTTP/1.1 101 OK\nUpgrade: websocket\r\n\n",
        ]
    )
    func lineEndings(text: String) throws {
        let response = try #require(try parseOnce(text).get())
        #expect(response.status.code == 101)
        #expect(response.status.reasonPhrase == "OK")
        #expect(response.headerFields[.upgrade] == "websocket")
    }

    @Test("bytes after the head (the first frames) stay in the buffer", arguments: [1, 2, 3, 50])
    func bytesAfterTheHead(split: Int) throws {
        let frame: [UInt8] = [0x81, 0x05] + Array("Hello".utf8)
        let bytes = Array(switching.utf8) + frame
        var parser = HTTPResponseHeadParser()
        // Whatever way the bytes arrive, exactly the frame is left.
        var buffer = ByteBuffer(bytes: bytes.prefix(bytes.count - frame.count - split))
        #expect(try parser.parse(&buffer) == nil)
        buffer.writeBytes(bytes.suffix(frame.count + split))
        let response = try parser.parse(&buffer)
        #expect(response?.status.code == 101)
        #expect(buffer.bytes == frame)
    }

    @Test("a status line without a reason phrase; a 3-digit status of every class", arguments: [101, 200, 301, 404, 503, 599, 100])
    func statusCodes(code: Int) throws {
        let response = try #require(try parseOnce("HTTP/1.1 \(code)\r\n\r\n").get())
        #expect(response.status.code == code)
        #expect(response.status.reasonPhrase == "")
        let withReason = try #require(try parseOnce("HTTP/1.1 \(code) Some Reason Here\r\nA: b\r\n\r\n").get())
        #expect(withReason.status.reasonPhrase == "Some Reason Here")
    }

    @Test(
        "header values are trimmed; repeated headers are kept in order",
        arguments: [
            "HTTP/1.1 101 OK\r\nX-Test:   a b  \r\nx-test:\tc\r\n\r\n",
            "HTTP/1.1 101 OK\r\nX-Test:a b\r\nX-TEST: c\r\n\r\n",
        ]
    )
    func headerValues(text: String) throws {
        let response = try #require(try parseOnce(text).get())
        #expect(response.headerFields[values: HTTPField.Name("X-Test")!] == ["a b", "c"])
    }

    @Test(
        "garbage fails with invalidHandshakeResponse as soon as it is not HTTP",
        arguments: [
            "SSH-2.0-OpenSSH_9.6\r\n", "hTTP/1.1 101 OK\r\n\r\n", "<html>", "\r\n", "\n\n", "H\0", "HTTP 101\r\n\r\n",
            "\u{16}\u{03}\u{01}",  // a TLS record: the server expected wss
        ]
    )
    func garbage(text: String) {
        #expect(errorCode(parseOnce(text)) == .invalidHandshakeResponse)
    }

    @Test("the first wrong byte is enough to fail", arguments: ["X", "HX", "HTTPS", "HTTP1"])
    func failsOnTheFirstWrongByte(prefix: String) {
        #expect(errorCode(parseOnce(prefix)) == .invalidHandshakeResponse)
    }

    @Test(
        "a correct prefix waits for more bytes",
        arguments: ["", "H", "HT", "HTTP/", "HTTP/1.1 10", "HTTP/1.1 101 OK\r\n", "HTTP/1.1 101 OK\r\nA: b\r\n\r"])
    func waitsForMore(prefix: String) throws {
        #expect(try parseOnce(prefix).get() == nil)
    }

    @Test(
        "malformed status lines and header lines fail with invalidHandshakeResponse",
        arguments: [
            "HTTP/2 101 OK\r\n\r\n",
            "HTTP/1.1 1010 OK\r\n\r\n",
            "HTTP/1.1 10 OK\r\n\r\n",
            "HTTP/1.1 abc OK\r\n\r\n",
            "HTTP/1.1 099 OK\r\n\r\n",
            "HTTP/1.1 600 OK\r\n\r\n",
            "HTTP/1.1 +01 OK\r\n\r\n",
            "HTTP/1.1  101 OK\r\n\r\n",
            "HTTP/1.1\r\n\r\n",
            "HTTP/1.1 101 OK\r\nno colon here\r\n\r\n",
            "HTTP/1.1 101 OK\r\nbad name: x\r\n\r\n",
            "HTTP/1.1 101 OK\r\n: empty name\r\n\r\n",
            "HTTP/1.1 101 OK\r\nA: b\r\n folded: continuation\r\n\r\n",
            "HTTP/1.1 101 OK\r\n\tA: b\r\n\r\n",
        ]
    )
    func malformed(text: String) {
        #expect(errorCode(parseOnce(text)) == .invalidHandshakeResponse)
    }

    @Test("a head over the size limit fails with headersTooLarge, complete or not")
    func headTooLarge() {
        let limit = 256
        let parser = HTTPResponseHeadParser(maxHeadSize: limit, maxHeaderCount: 100)
        let big = "HTTP/1.1 101 OK\r\nX-Big: " + String(repeating: "a", count: 300)
        // Still incomplete, but already over the limit: fail without waiting for the end.
        #expect(errorCode(parseOnce(big, parser: parser)) == .headersTooLarge)
        #expect(errorCode(parseOnce(big + "\r\n\r\n", parser: parser)) == .headersTooLarge)
        // A head that fits, blank line included, parses; one well over the limit does not.
        let fits = "HTTP/1.1 101 OK\r\nX-Big: " + String(repeating: "a", count: limit - 28) + "\r\n\r\n"
        #expect(fits.utf8.count == limit)
        #expect((try? parseOnce(fits, parser: parser).get())??.status.code == 101)
        let over = "HTTP/1.1 101 OK\r\nX-Big: " + String(repeating: "a", count: limit - 18) + "\r\n\r\n"
        #expect(errorCode(parseOnce(over, parser: parser)) == .headersTooLarge)
    }

    @Test("an endless status line with no newline fails with headersTooLarge once over the limit")
    func endlessStatusLine() throws {
        var parser = HTTPResponseHeadParser(maxHeadSize: 1024)
        var buffer = ByteBuffer(string: "HTTP/1.1 101 ")
        #expect(try parser.parse(&buffer) == nil)
        var failed: WebSocketError.Code?
        for _ in 0..<100 {
            buffer.writeString(String(repeating: "x", count: 100))
            do {
                _ = try parser.parse(&buffer)
            } catch {
                failed = error.code
                break
            }
        }
        #expect(failed == .headersTooLarge)
        #expect(buffer.readableBytes <= 1024 + 100)
    }

    @Test("more header fields than allowed fail with headersTooLarge", arguments: [3, 4, 5])
    func tooManyHeaders(count: Int) {
        let parser = HTTPResponseHeadParser(maxHeadSize: 16 * 1024, maxHeaderCount: 4)
        let text = "HTTP/1.1 101 OK\r\n" + (0..<count).map { "X-\($0): v\r\n" }.joined() + "\r\n"
        if count <= 4 {
            #expect((try? parseOnce(text, parser: parser).get())??.headerFields.count == count)
        } else {
            #expect(errorCode(parseOnce(text, parser: parser)) == .headersTooLarge)
        }
    }

    @Test(
        "end of input: before the status line, inside it, inside the headers",
        arguments: [
            ("", "connection closed before the status line"),
            ("HTTP/1.1 10", "connection closed while reading the status line"),
            ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: webs", "connection closed while reading the response headers"),
            ("HTTP/1.1 101 Switching Protocols\r\n", "connection closed while reading the response headers"),
        ]
    )
    func endOfInput(buffered: String, message: String) {
        let error = HTTPResponseHeadParser().endOfInput(buffered: ByteBuffer(string: buffered))
        #expect(error.code == .invalidHandshakeResponse)
        #expect(error.message == message)
        #expect(error.cause is EndOfStream)
        // The case that broke retry loops elsewhere: a server closing before answering is retryable.
        #expect(error.isRetryable)
    }

    @Test("the parser can be reused for a second response (after a redirect or 401)")
    func reuse() throws {
        var parser = HTTPResponseHeadParser()
        var buffer = ByteBuffer(string: "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\n\r\n")
        #expect(try parser.parse(&buffer)?.status.code == 401)
        buffer = ByteBuffer(string: "HTTP/1.1 101 Swi")
        #expect(try parser.parse(&buffer) == nil)
        buffer.writeString("tching Protocols\r\n\r\n")
        #expect(try parser.parse(&buffer)?.status.code == 101)
    }

    @Test("random bytes after \"HTTP/1.1 \" are a response, a wait, or a documented error", arguments: 0..<8)
    func randomHeaders(seed: Int) {
        var random = SeededRandom(seed: UInt64(seed))
        for _ in 0..<500 {
            var parser = HTTPResponseHeadParser(maxHeadSize: 200, maxHeaderCount: 5)
            var buffer = ByteBuffer(string: "HTTP/1.1 ")
            let alphabet: [UInt8] = Array("ab01:\r\n \t\u{0}\u{7F}".utf8) + [0xC3, 0xFF]
            if Bool.random(using: &random) { buffer.writeString("101 OK\r\n") }
            buffer.writeBytes(
                (0..<Int.random(in: 0...300, using: &random)).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &random)] })
            do {
                _ = try parser.parse(&buffer)
            } catch {
                #expect([.invalidHandshakeResponse, .headersTooLarge].contains(error.code))
            }
        }
    }
}

extension String {
    fileprivate func replacingCRLF() -> String {
        String(decoding: Array(utf8).filter { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
    }
}
