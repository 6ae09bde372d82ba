/// The `Sec-WebSocket-Key` / `Sec-WebSocket-Accept` pair (RFC 6455 §4.1, §4.2.2).
public enum HandshakeKey {
    /// RFC 6455 §1.3: the GUID concatenated with the key before hashing.
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// A fresh random key: "a randomly selected 16-byte value that has been base64-encoded"
    /// (RFC 6455 §4.1 item 7).
    public static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return Base64Encoding.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// The `Sec-WebSocket-Accept` value for `key`: base64(SHA-1(key + GUID)).
    public static func accept(for key: some StringProtocol) -> String {
        Base64Encoding.encode(SHA1.hash(Array((key + guid).utf8)))
    }

    /// Whether `key` is a valid `Sec-WebSocket-Key` (base64 of 16 bytes).
    public static func isValid(_ key: some StringProtocol) -> Bool {
        Base64Encoding.isEncodingOfSixteenBytes(Substring(key))
    }
}
