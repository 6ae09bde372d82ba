import Testing

@testable import DuplexWebSocketCore

private func hex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

@Suite("RFC 6455 §4.2.2 / FIPS 180-4: SHA-1 for Sec-WebSocket-Accept")
struct SHA1Tests {
    @Test(
        "FIPS 180 / RFC 3174 test vectors",
        arguments: [
            ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            ("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
            ),
            (
                "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                "a49b2446a02c645bf419f995b67091253a04a259"
            ),
            ("The quick brown fox jumps over the lazy dog", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"),
        ]
    )
    func vectors(message: String, digest: String) {
        #expect(hex(SHA1.hash(Array(message.utf8))) == digest)
    }

    @Test("FIPS 180 test vector: one million times 'a'")
    func oneMillionA() {
        #expect(hex(SHA1.hash([UInt8](repeating: 0x61, count: 1_000_000))) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    @Test(
        "padding at the block boundaries (55, 56, 63, 64 bytes, ...)",
        arguments: [
            (55, "c1c8bbdc22796e28c0e15163d20899b65621d65a"),
            (56, "c2db330f6083854c99d4b5bfb6e8f29f201be699"),
            (57, "f08f24908d682555111be7ff6f004e78283d989a"),
            (63, "03f09f5b158a7a8cdad920bddc29b81c18a551f5"),
            (64, "0098ba824b5c16427bd7a1122a5a442a25ec644d"),
            (65, "11655326c708d70319be2610e8a57d9a5b959d3b"),
            (119, "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56"),
            (120, "f34c1488385346a55709ba056ddd08280dd4c6d6"),
            (1000, "291e9a6c66994949b57ba5e650361e98fc36b1ba"),
        ]
    )
    func blockBoundaries(count: Int, digest: String) {
        #expect(hex(SHA1.hash([UInt8](repeating: 0x61, count: count))) == digest)
    }

    @Test("every byte value")
    func everyByteValue() {
        #expect(hex(SHA1.hash((0...255).map { UInt8($0) })) == "4916d6bdb7f78e6803698cab32d1586ea457dfc8")
    }

    @Test("any collection of bytes (slices too)")
    func slices() {
        let bytes = Array("xxabcxx".utf8)
        #expect(hex(SHA1.hash(bytes[2..<5])) == "a9993e364706816aba3e25717850c26c9cd0d89d")
    }
}
