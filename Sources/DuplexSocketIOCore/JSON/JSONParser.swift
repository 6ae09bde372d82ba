/// A strict RFC 8259 JSON parser over raw UTF-8 bytes.
///
/// - Depth: each array or object nests one level; more than `maxDepth` levels is
///   ``SocketIOError/Code/jsonTooDeep``, so recursion is bounded whatever the input.
/// - Strings: unescaped runs are found eight bytes at a time and become a `String` in one
///   step (no per-character appends). Raw control characters (< 0x20) and invalid UTF-8 are
///   rejected. A `\u` escape of a lone UTF-16 surrogate (which `JSON.parse` accepts and
///   `JSON.stringify` produces for a lone surrogate) becomes U+FFFD, because a Swift `String`
///   cannot hold one; rejecting it would close connections of legitimate JavaScript peers.
/// - Duplicate keys: the later value replaces the earlier one at the earlier position, as
///   `JSON.parse` does (see ``JSONObject``).
/// - Numbers: RFC 8259 §6 grammar. Integers written without fraction or exponent that fit in
///   `Int64` are exact (`.int`, even beyond 2^53 where `JSON.parse` would round). Other numbers
///   are the nearest `Double` (overflow gives ±infinity, as `JSON.parse`), stored as `.int`
///   when integral and below 2^53 (`1.0`, `1e2`), so that re-serializing matches
///   `JSON.stringify(JSON.parse(text))`.
///
/// Every byte access is preceded by an index check against `end`.
struct JSONParser {
    private let bytes: UnsafeRawBufferPointer
    private let end: Int
    private let maxDepth: Int
    private var depth = 0
    /// Reused buffer for strings that contain escapes.
    private var scratch: [UInt8] = []
    /// The offset of the next byte to read.
    private(set) var index: Int

    init(bytes: UnsafeRawBufferPointer, startIndex: Int = 0, maxDepth: Int) {
        self.bytes = bytes
        self.end = bytes.count
        self.index = startIndex
        self.maxDepth = maxDepth
    }

    /// Parses one value that, with surrounding whitespace, spans the rest of the input.
    mutating func parseDocument() throws(SocketIOError) -> JSONValue {
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        guard index == end else { throw invalid("unexpected data after the value", at: index) }
        return value
    }

    // RFC 8259 §2: ws = *( %x20 / %x09 / %x0A / %x0D )
    private mutating func skipWhitespace() {
        while index < end {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue() throws(SocketIOError) -> JSONValue {
        guard index < end else { throw invalid("unexpected end of input", at: index) }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            index += 1
            return .string(try parseStringBody())
        case UInt8(ascii: "["):
            return try parseArray()
        case UInt8(ascii: "{"):
            return try parseObject()
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try parseNumber()
        default:
            throw invalid("unexpected character", at: index)
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(SocketIOError) {
        let count = literal.utf8CodeUnitCount
        guard end - index >= count else { throw invalid("invalid literal", at: index) }
        let pointer = literal.utf8Start
        for offset in 0..<count where bytes[index + offset] != pointer[offset] {
            throw invalid("invalid literal", at: index)
        }
        index += count
    }

    private mutating func enterContainer() throws(SocketIOError) {
        depth += 1
        guard depth <= maxDepth else {
            throw SocketIOError(.jsonTooDeep, "JSON nests deeper than \(maxDepth) levels at byte \(index)")
        }
    }

    private mutating func parseArray() throws(SocketIOError) -> JSONValue {
        try enterContainer()
        index += 1  // "["
        skipWhitespace()
        if index < end, bytes[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array([])
        }
        var elements: [JSONValue] = []
        elements.reserveCapacity(4)
        while true {
            elements.append(try parseValue())
            skipWhitespace()
            guard index < end else { throw invalid("unterminated array", at: index) }
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: ",") {
                skipWhitespace()
            } else if byte == UInt8(ascii: "]") {
                break
            } else {
                throw invalid("expected ',' or ']'", at: index - 1)
            }
        }
        depth -= 1
        return .array(elements)
    }

    private mutating func parseObject() throws(SocketIOError) -> JSONValue {
        try enterContainer()
        index += 1  // "{"
        skipWhitespace()
        if index < end, bytes[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(JSONObject())
        }
        var members: [JSONObject.Member] = []
        members.reserveCapacity(4)
        while true {
            guard index < end, bytes[index] == UInt8(ascii: "\"") else {
                throw invalid("expected a string key", at: index)
            }
            index += 1
            let key = try parseStringBody()
            skipWhitespace()
            guard index < end, bytes[index] == UInt8(ascii: ":") else { throw invalid("expected ':'", at: index) }
            index += 1
            skipWhitespace()
            members.append(JSONObject.Member(key: key, value: try parseValue()))
            skipWhitespace()
            guard index < end else { throw invalid("unterminated object", at: index) }
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: ",") {
                skipWhitespace()
            } else if byte == UInt8(ascii: "}") {
                break
            } else {
                throw invalid("expected ',' or '}'", at: index - 1)
            }
        }
        depth -= 1
        // A repeated key keeps its first position and takes the last value, as JSON.parse.
        return .object(JSONObject(members))
    }

    // MARK: Strings

    /// Parses the rest of a string whose opening quote has been consumed.
    private mutating func parseStringBody() throws(SocketIOError) -> String {
        let start = index
        let (position, sawNonASCII) = JSONStringScanner.scan(bytes, from: start)
        guard position < end else { throw invalid("unterminated string", at: start - 1) }
        let byte = bytes[position]
        if byte == UInt8(ascii: "\"") {
            index = position + 1
            let content = UnsafeRawBufferPointer(rebasing: bytes[start..<position])
            if !sawNonASCII {
                return String(decoding: content, as: UTF8.self)
            }
            guard let string = String(validating: content.assumingMemoryBound(to: UInt8.self), as: UTF8.self) else {
                throw invalid("invalid UTF-8 in string", at: start)
            }
            return string
        }
        if byte == UInt8(ascii: "\\") {
            return try parseEscapedString(start: start, firstEscape: position)
        }
        // RFC 8259 §7: control characters U+0000 to U+001F must be escaped.
        throw invalid("unescaped control character in string", at: position)
    }

    private mutating func parseEscapedString(start: Int, firstEscape: Int) throws(SocketIOError) -> String {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<firstEscape]))
        var position = firstEscape
        while position < end {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                index = position + 1
                guard let string = String(validating: scratch, as: UTF8.self) else {
                    throw invalid("invalid UTF-8 in string", at: start)
                }
                return string
            }
            if byte == UInt8(ascii: "\\") {
                guard position + 1 < end else { break }
                let escape = bytes[position + 1]
                position += 2
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(escape)
                case UInt8(ascii: "b"): scratch.append(0x08)
                case UInt8(ascii: "f"): scratch.append(0x0C)
                case UInt8(ascii: "n"): scratch.append(0x0A)
                case UInt8(ascii: "r"): scratch.append(0x0D)
                case UInt8(ascii: "t"): scratch.append(0x09)
                case UInt8(ascii: "u"):
                    guard let unit = hex4(at: position) else {
                        throw invalid("invalid \\u escape", at: position - 2)
                    }
                    position += 4
                    var scalar = UInt32(unit)
                    if (0xD800...0xDBFF).contains(unit) {
                        // RFC 8259 §7: a character outside the BMP is a surrogate pair "\uD834\uDD1E".
                        if end - position >= 6, bytes[position] == UInt8(ascii: "\\"),
                            bytes[position + 1] == UInt8(ascii: "u"), let low = hex4(at: position + 2),
                            (0xDC00...0xDFFF).contains(low)
                        {
                            scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                            position += 6
                        } else {
                            scalar = 0xFFFD  // lone high surrogate (see the type's documentation)
                        }
                    } else if (0xDC00...0xDFFF).contains(unit) {
                        scalar = 0xFFFD  // lone low surrogate
                    }
                    appendUTF8(scalar)
                default:
                    throw invalid("invalid escape", at: position - 2)
                }
                continue
            }
            guard byte >= 0x20 else { throw invalid("unescaped control character in string", at: position) }
            let runStart = position
            position = JSONStringScanner.scan(bytes, from: position + 1).index
            scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<position]))
        }
        throw invalid("unterminated string", at: start - 1)
    }

    private func hex4(at position: Int) -> UInt16? {
        guard end - position >= 4 else { return nil }
        var value: UInt16 = 0
        for offset in 0..<4 {
            let byte = bytes[position + offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    // MARK: Numbers

    // RFC 8259 §6: number = [ minus ] int [ frac ] [ exp ]
    //   int = zero / ( digit1-9 *DIGIT ); frac = "." 1*DIGIT; exp = ("e"/"E") ["-"/"+"] 1*DIGIT
    private mutating func parseNumber() throws(SocketIOError) -> JSONValue {
        let start = index
        var position = index
        let isNegative = bytes[position] == UInt8(ascii: "-")
        if isNegative { position += 1 }
        guard position < end else { throw invalid("invalid number", at: start) }
        var magnitude: UInt64 = 0
        var overflowed = false
        let first = bytes[position]
        if first == UInt8(ascii: "0") {
            position += 1
        } else if first >= UInt8(ascii: "1") && first <= UInt8(ascii: "9") {
            while position < end {
                let digit = bytes[position] &- UInt8(ascii: "0")
                guard digit < 10 else { break }
                let (product, productOverflow) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, sumOverflow) = product.addingReportingOverflow(UInt64(digit))
                overflowed = overflowed || productOverflow || sumOverflow
                magnitude = sum
                position += 1
            }
        } else {
            throw invalid("invalid number", at: start)
        }
        var isIntegerSyntax = true
        if position < end, bytes[position] == UInt8(ascii: ".") {
            isIntegerSyntax = false
            position += 1
            position = try skipDigits(from: position, numberStart: start)
        }
        if position < end, bytes[position] | 0x20 == UInt8(ascii: "e") {
            isIntegerSyntax = false
            position += 1
            if position < end, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            position = try skipDigits(from: position, numberStart: start)
        }
        index = position
        if isIntegerSyntax && !overflowed {
            if !isNegative, magnitude <= UInt64(Int64.max) {
                return .int(Int64(magnitude))
            }
            if isNegative, magnitude <= UInt64(Int64.max) + 1 {
                return .int(Int64(truncatingIfNeeded: 0 &- magnitude))
            }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        guard let number = Double(text) else { throw invalid("invalid number", at: start) }
        return .number(number)
    }

    /// Skips `1*DIGIT`.
    private func skipDigits(from position: Int, numberStart: Int) throws(SocketIOError) -> Int {
        var position = position
        let digitsStart = position
        while position < end, bytes[position] &- UInt8(ascii: "0") < 10 { position += 1 }
        guard position > digitsStart else { throw invalid("invalid number", at: numberStart) }
        return position
    }

    private func invalid(_ problem: String, at offset: Int) -> SocketIOError {
        SocketIOError(.invalidJSON, "invalid JSON at byte \(offset): \(problem)")
    }
}
