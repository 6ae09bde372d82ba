import Testing

@testable import DuplexWebSocketCore

@Suite("RFC 6455 §4.1, §4.2.2: Sec-WebSocket-Key and Sec-WebSocket-Accept")
struct HandshakeKeyTests {
    @Test("§1.3: the RFC's example key and accept value")
    func rfcExample() {
        #expect(HandshakeKey.accept(for: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(HandshakeKey.accept(for: Substring("dGhlIHNhbXBsZSBub25jZQ==")) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test(
        "§4.2.2: base64(SHA-1(key + GUID)) for other keys (values computed with Python hashlib)",
        arguments: [
            ("x3JJHMbDL1EzLkh9GBhXDw==", "HSmrc0sMlYUkAGmm5OPpG2HaGWk="),
            ("AQIDBAUGBwgJCgsMDQ4PEC==", "OfS0wDaT5NoxF2gqm7Zj2YtetzM="),
        ]
    )
    func otherKeys(key: String, accept: String) {
        #expect(HandshakeKey.accept(for: key) == accept)
    }

    @Test("§4.1 item 7: a random key is base64 of 16 random bytes, fresh every time")
    func randomKeys() {
        let keys = (0..<64).map { _ in HandshakeKey.random() }
        #expect(keys.allSatisfy { HandshakeKey.isValid($0) && $0.utf8.count == 24 })
        #expect(Set(keys).count == keys.count)
    }
}
