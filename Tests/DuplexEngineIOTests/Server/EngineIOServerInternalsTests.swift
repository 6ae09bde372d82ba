import CDuplexZlib
import DuplexWebSocketCore
import NIOCore
import Testing

@testable import DuplexEngineIO

/// HTTP content codings of polling responses (RFC 9110 §8.4.1, §12.5.3).
@Suite("RFC 9110 content codings of polling responses")
struct HTTPBodyCompressorTests {
    @Test(
        arguments: [
            ("gzip, deflate, br", HTTPBodyCompressor.Encoding.gzip),
            ("deflate", .deflate),
            ("GZIP", .gzip),
            ("gzip;q=0, deflate", .deflate),
            ("gzip;q=0, deflate;q=0", nil),
            ("br, identity", nil),
            ("*", .gzip),
            ("*;q=0.5, gzip;q=0", .deflate),
            ("", nil),
        ] as [(String, HTTPBodyCompressor.Encoding?)])
    func negotiation(_ acceptEncoding: String, _ expected: HTTPBodyCompressor.Encoding?) {
        #expect(HTTPBodyCompressor.negotiate(acceptEncoding: acceptEncoding) == expected)
    }

    @Test("compressed bodies inflate back to the original", arguments: [HTTPBodyCompressor.Encoding.gzip, .deflate])
    func roundTrip(_ encoding: HTTPBodyCompressor.Encoding) throws {
        let original = ByteBuffer(string: String(repeating: "4hello world\u{1E}", count: 500))
        let compressed = try #require(HTTPBodyCompressor.compress(original, encoding: encoding, level: -1))
        #expect(compressed.readableBytes < original.readableBytes / 10)
        #expect(
            Self.inflate(compressed, windowBits: encoding.windowBits, expectedSize: original.readableBytes)
                == Array(original.readableBytesView))
    }

    /// zlib inflate with automatic header detection for `windowBits` (15: zlib, 31: gzip).
    static func inflate(_ input: ByteBuffer, windowBits: Int32, expectedSize: Int) -> [UInt8]? {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        guard inflateInit2_(stream, windowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { inflateEnd(stream) }
        var output = [UInt8](repeating: 0, count: expectedSize + 16)
        let status = input.withUnsafeReadableBytes { bytes in
            output.withUnsafeMutableBytes { out in
                stream.pointee.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: Bytef.self))
                stream.pointee.avail_in = uInt(bytes.count)
                stream.pointee.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(out.count)
                return CDuplexZlib.inflate(stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return nil }
        return Array(output.prefix(Int(stream.pointee.total_out)))
    }
}

/// DESIGN.md, Errors: lower-level failures become the documented Engine.IO codes.
@Suite("EngineIOError translation")
struct EngineIOErrorTranslationTests {
    @Test(
        arguments: [
            (WebSocketError(.connectionFailed, "refused"), EngineIOFailurePhase.connecting, EngineIOError.Code.connectionFailed),
            (WebSocketError(.handshakeRejected, "400"), .connecting, .handshakeRejected),
            (WebSocketError(.openingTimedOut, "slow"), .connecting, .connectionFailed),
            (WebSocketError(.handshakeRejected, "400"), .upgrading, .upgradeFailed),
            (WebSocketError(.connectionClosed, "closed"), .transport, .transportClosed),
            (WebSocketError(.protocolViolation, "bad frame"), .transport, .transportError),
            (WebSocketError(.cancelled, "cancelled"), .transport, .cancelled),
        ] as [(WebSocketError, EngineIOFailurePhase, EngineIOError.Code)])
    func webSocketErrors(_ error: WebSocketError, _ phase: EngineIOFailurePhase, _ expected: EngineIOError.Code) {
        let translated = EngineIOError.translating(error, during: phase)
        #expect(translated.code == expected)
        #expect(translated.underlyingError(as: WebSocketError.self) == error)
    }

    @Test("EngineIOError passes through; CancellationError is cancelled")
    func otherErrors() {
        let original = EngineIOError(.pingTimeout, "no pong")
        #expect(EngineIOError.translating(original, during: .transport) == original)
        #expect(EngineIOError.translating(CancellationError(), during: .connecting).code == .cancelled)
    }
}
