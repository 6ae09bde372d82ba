import Testing

@testable import DuplexWebSocketCore

@Suite("RFC 4648 §4: base64 for handshake keys")
struct Base64EncodingTests {
    @Test(
        "RFC 4648 §10 test vectors",
        arguments: [
            ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
        ]
    )
    func vectors(input: String, output: String) {
        #expect(Base64Encoding.encode(Array(input.utf8)) == output)
    }

    @Test("every byte value, with the + and / characters")
    func everyByteValue() {
        let expected =
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w=="
        #expect(Base64Encoding.encode((0...255).map { UInt8($0) }) == expected)
    }

    @Test(
        "RFC 6455 §4.2.1 item 5: a key is the encoding of exactly 16 bytes",
        arguments: [
            ("dGhlIHNhbXBsZSBub25jZQ==", true),
            ("AAAAAAAAAAAAAAAAAAAAAA==", true),
            ("/////////////////////w==", true),
            ("++++++++++++++++++++++==", true),
            ("dGhlIHNhbXBsZSBub25jZQ=", false),  // 23 characters
            ("dGhlIHNhbXBsZSBub25jZQ", false),  // no padding
            ("dGhlIHNhbXBsZSBub25jZQ===", false),
            ("dGhlIHNhbXBsZSBub25jZXg=", false),  // 17 bytes
            ("dGhlIHNhbXBsZSBub25j", false),  // 15 bytes
            ("dGhlIHNhbXBsZSBub25jZQ-=", false),
            ("dGhlIHNhbXBsZSBub2=jZQ==", false),
            ("dGhlIHNhbXBsZSBub25j ZQ==", false),
            ("dGhlIHNhbXBsZSBub25jZ_==", false),
            ("dGhlIHNhbXBsZSBub25jZé==", false),
            ("", false),
        ]
    )
    func sixteenByteKeys(key: String, valid: Bool) {
        #expect(Base64Encoding.isEncodingOfSixteenBytes(Substring(key)) == valid)
        #expect(HandshakeKey.isValid(key) == valid)
    }

    @Test("the encoding of any 16 bytes is a valid key", arguments: 0..<16)
    func encodedSixteenBytesAreValid(seed: Int) {
        var random = SeededRandom(seed: UInt64(seed))
        let key = Base64Encoding.encode(random.bytes(16))
        #expect(key.utf8.count == 24)
        #expect(HandshakeKey.isValid(key))
    }
}
