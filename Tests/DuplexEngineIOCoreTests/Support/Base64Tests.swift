import NIOCore
import Testing

@testable import DuplexEngineIOCore

@Suite("RFC 4648 base64")
struct Base64Tests {
    static let rfcVectors: [(String, String)] = [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ]

    @Test("§10 test vectors encode and decode", arguments: rfcVectors)
    func vectors(_ vector: (String, String)) {
        let (plain, encoded) = vector
        var buffer = ByteBuffer()
        Base64.encode(ByteBuffer(string: plain), into: &buffer)
        #expect(String(buffer: buffer) == encoded)
        var decoded = ByteBuffer()
        let ok = ByteBuffer(string: encoded).withUnsafeReadableBytes { Base64.decode($0, into: &decoded) }
        #expect(ok)
        #expect(String(buffer: decoded) == plain)
    }

    @Test("Round trip of every byte value and every length up to 70, padded and not")
    func roundTrip() {
        for length in 0...70 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 251) }
            var encoded = ByteBuffer()
            bytes.withUnsafeBytes { Base64.encode($0, into: &encoded) }
            #expect(encoded.readableBytes == Base64.encodedLength(of: length))
            var decoded = ByteBuffer()
            #expect(encoded.withUnsafeReadableBytes { Base64.decode($0, into: &decoded) })
            #expect(Array(decoded.readableBytesView) == bytes)
            // Unpadded input is accepted too.
            let unpadded = String(buffer: encoded).replacingOccurrences(of: "=", with: "")
            var decodedUnpadded = ByteBuffer()
            #expect(ByteBuffer(string: unpadded).withUnsafeReadableBytes { Base64.decode($0, into: &decodedUnpadded) })
            #expect(Array(decodedUnpadded.readableBytesView) == bytes)
        }
        let all = (0...255).map { UInt8($0) }
        var encoded = ByteBuffer()
        all.withUnsafeBytes { Base64.encode($0, into: &encoded) }
        var decoded = ByteBuffer()
        #expect(encoded.withUnsafeReadableBytes { Base64.decode($0, into: &decoded) })
        #expect(Array(decoded.readableBytesView) == all)
    }

    @Test(
        "Invalid input is rejected and leaves the buffer unchanged",
        arguments: ["A", "AB=C", "A===", "****", "Zm9v\n", "Zg==Zg==", "é"]
    )
    func invalid(_ text: String) {
        var buffer = ByteBuffer(string: "x")
        let ok = ByteBuffer(string: text).withUnsafeReadableBytes { Base64.decode($0, into: &buffer) }
        #expect(!ok)
        #expect(String(buffer: buffer) == "x")
    }

    @Test("§5 URL-safe alphabet without padding")
    func urlSafe() {
        let bytes: [UInt8] = [0xFB, 0xFF, 0xBF]
        #expect(bytes.withUnsafeBytes { Base64.encodeToString($0, alphabet: .urlSafe, padding: false) } == "-_-_")
        #expect([UInt8(1)].withUnsafeBytes { Base64.encodeToString($0, alphabet: .urlSafe, padding: false) } == "AQ")
        #expect(Base64.encodedLength(of: 1, padding: false) == 2)
        #expect(Base64.encodedLength(of: 2, padding: false) == 3)
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
