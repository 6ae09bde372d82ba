/// Incremental UTF-8 validation (RFC 3629), so that invalid text fails as soon as the bad
/// bytes arrive, in the middle of a fragmented message (RFC 6455 §8.1: "When an endpoint is to
/// interpret a byte stream as UTF-8 but finds that the byte stream is not, in fact, a valid UTF-8
/// stream, that endpoint MUST _Fail the WebSocket Connection_").
///
/// A DFA (Björn Höhrmann's) with an ASCII fast path of 8 bytes per step.
public struct UTF8Validator: Sendable, Hashable {
    private var state: UInt8 = Self.accept

    private static let accept: UInt8 = 0
    private static let reject: UInt8 = 12

    /// Creates a validator at the start of a text.
    public init() {}

    /// Whether the bytes seen so far end on a complete code point.
    public var isComplete: Bool { state == Self.accept }

    /// Resets to the start of a new text.
    public mutating func reset() { state = Self.accept }

    /// Feeds the next bytes. Returns false as soon as the bytes seen so far cannot be the start
    /// of valid UTF-8 (a truncated code point at the end is not an error until ``isComplete``
    /// is checked at the end of the text).
    public mutating func validate(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard var pointer = bytes.baseAddress else { return state != Self.reject }
        var remaining = bytes.count
        var state = self.state
        defer { self.state = state }
        return Self.table.withUnsafeBufferPointer { table in
            while remaining > 0 {
                if state == Self.accept {
                    // ASCII fast path: skip whole words whose bytes all have the high bit clear.
                    while remaining >= 8 {
                        let word = pointer.loadUnaligned(as: UInt64.self)
                        if word & 0x8080_8080_8080_8080 != 0 { break }
                        pointer += 8
                        remaining -= 8
                    }
                    if remaining == 0 { break }
                }
                let byte = pointer.load(as: UInt8.self)
                let characterClass = table[Int(byte)]
                state = table[256 + Int(state) + Int(characterClass)]
                if state == Self.reject { return false }
                pointer += 1
                remaining -= 1
            }
            // Also false for an empty chunk after an earlier failure: the text stays invalid.
            return state != Self.reject
        }
    }

    /// Validates a complete text in one call.
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var validator = UTF8Validator()
        return validator.validate(bytes) && validator.isComplete
    }

    // Höhrmann's table: 256 byte → character class entries, then state × class → state.
    private static let table: [UInt8] = [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
        7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
        8, 8, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
        10, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 3, 3, 11, 6, 6, 6, 5, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
        0, 12, 24, 36, 60, 96, 84, 12, 12, 12, 48, 72, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
        12, 0, 12, 12, 12, 12, 12, 0, 12, 0, 12, 12, 12, 24, 12, 12, 12, 12, 12, 24, 12, 24, 12, 12,
        12, 12, 12, 12, 12, 12, 12, 24, 12, 12, 12, 12, 12, 24, 12, 12, 12, 12, 12, 12, 12, 24, 12, 12,
        12, 12, 12, 12, 12, 12, 12, 36, 12, 36, 12, 12, 12, 36, 12, 12, 12, 12, 12, 36, 12, 36, 12, 12,
        12, 36, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    ]
}
