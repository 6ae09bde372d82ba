/// An Engine.IO session id, as carried by the `sid` query parameter.
///
/// Generated ids are 120 bits from the system CSPRNG, encoded as 20 characters of URL-safe
/// base64 (RFC 4648 §5), so they need no escaping in a query string.
public struct EngineIOSessionID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The id as sent on the wire.
    public let rawValue: String

    /// The longest id accepted from a request.
    public static let maximumLength = 64

    /// Wraps an id received from a peer; `nil` unless it is 1 to 64 characters of
    /// `A–Z a–z 0–9 - _` (ids that no Duplex server can have issued are rejected unseen).
    public init?(rawValue: String) {
        let utf8 = rawValue.utf8
        guard !utf8.isEmpty, utf8.count <= Self.maximumLength, utf8.allSatisfy(Self.isIDByte) else { return nil }
        self.rawValue = rawValue
    }

    private init(unchecked rawValue: String) { self.rawValue = rawValue }

    private static func isIDByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }

    /// A new random id from `SystemRandomNumberGenerator` (a CSPRNG: `getrandom(2)` on Linux,
    /// `arc4random_buf` on Apple platforms).
    public static func random() -> EngineIOSessionID {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    /// A new random id from `generator` (use a cryptographically secure generator outside tests).
    public static func random<Generator: RandomNumberGenerator>(using generator: inout Generator) -> EngineIOSessionID {
        // 15 bytes = 120 bits = exactly 20 base64 characters, no padding.
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        var bytes = [UInt8](repeating: 0, count: 15)
        for index in 0..<8 { bytes[index] = UInt8(truncatingIfNeeded: high >> (8 * index)) }
        for index in 0..<7 { bytes[8 + index] = UInt8(truncatingIfNeeded: low >> (8 * index)) }
        let text = bytes.withUnsafeBytes { Base64.encodeToString($0, alphabet: .urlSafe, padding: false) }
        return EngineIOSessionID(unchecked: text)
    }

    public var description: String { rawValue }
}
