import NIOCore

/// A minimal RFC 8259 JSON reader and string escaper: enough for the handshake object and
/// error bodies, without pulling Foundation into the core. Depth and size are bounded by the
/// caller's input; nesting is capped at ``maximumDepth``.
enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    static let maximumDepth = 32

    /// Parses a complete JSON text. Returns `nil` if it is not valid JSON.
    static func parse(_ text: String) -> JSONValue? {
        var text = text
        return text.withUTF8 { utf8 in
            var parser = Parser(bytes: UnsafeRawBufferPointer(utf8))
            guard let value = parser.parseValue(depth: 0) else { return nil }
            parser.skipWhitespace()
            return parser.index == parser.bytes.count ? value : nil
        }
    }

    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func consume(_ literal: StaticString) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard bytes.count - index >= count else { return false }
            let matches = literal.withUTF8Buffer { expected in
                UnsafeRawBufferPointer(rebasing: bytes[index..<index + count]).elementsEqual(expected)
            }
            if matches { index += count }
            return matches
        }

        mutating func parseValue(depth: Int) -> JSONValue? {
            guard depth < JSONValue.maximumDepth else { return nil }
            skipWhitespace()
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "{"): return parseObject(depth: depth)
            case UInt8(ascii: "["): return parseArray(depth: depth)
            case UInt8(ascii: "\""): return parseString().map(JSONValue.string)
            case UInt8(ascii: "t"): return consume("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return consume("false") ? .bool(false) : nil
            case UInt8(ascii: "n"): return consume("null") ? .null : nil
            default: return parseNumber()
            }
        }

        mutating func parseObject(depth: Int) -> JSONValue? {
            index += 1
            var members: [String: JSONValue] = [:]
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), let key = parseString() else {
                    return nil
                }
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
                index += 1
                guard let value = parseValue(depth: depth + 1) else { return nil }
                members[key] = value
                skipWhitespace()
                guard index < bytes.count else { return nil }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                } else if bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return .object(members)
                } else {
                    return nil
                }
            }
        }

        mutating func parseArray(depth: Int) -> JSONValue? {
            index += 1
            var elements: [JSONValue] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            while true {
                guard let value = parseValue(depth: depth + 1) else { return nil }
                elements.append(value)
                skipWhitespace()
                guard index < bytes.count else { return nil }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                } else if bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return .array(elements)
                } else {
                    return nil
                }
            }
        }

        mutating func parseNumber() -> JSONValue? {
            // RFC 8259 §6: -? int frac? exp?
            let start = index
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard let firstDigit = index < bytes.count ? bytes[index] : nil, isDigit(firstDigit) else { return nil }
            index += 1
            if firstDigit != UInt8(ascii: "0") { skipDigits() }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard index < bytes.count, isDigit(bytes[index]) else { return nil }
                skipDigits()
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                    index += 1
                }
                guard index < bytes.count, isDigit(bytes[index]) else { return nil }
                skipDigits()
            }
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            return Double(text).map(JSONValue.number)
        }

        private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

        private mutating func skipDigits() {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }

        mutating func parseString() -> String? {
            index += 1
            var scalars = String.UnicodeScalarView()
            var runStart = index
            func flushRun(_ end: Int) -> Bool {
                guard end > runStart else { return true }
                let run = UnsafeRawBufferPointer(rebasing: bytes[runStart..<end]).withMemoryRebound(to: UInt8.self) {
                    String(validating: $0, as: UTF8.self)
                }
                guard let run else { return false }
                scalars.append(contentsOf: run.unicodeScalars)
                return true
            }
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    guard flushRun(index) else { return nil }
                    index += 1
                    return String(scalars)
                }
                // RFC 8259 §7: control characters must be escaped.
                guard byte >= 0x20 else { return nil }
                guard byte == UInt8(ascii: "\\") else {
                    index += 1
                    continue
                }
                guard flushRun(index), index + 1 < bytes.count else { return nil }
                let escape = bytes[index + 1]
                index += 2
                switch escape {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    guard let unit = parseHex4() else { return nil }
                    if (0xD800..<0xDC00).contains(unit), index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"),
                        bytes[index + 1] == UInt8(ascii: "u")
                    {
                        index += 2
                        guard let low = parseHex4() else { return nil }
                        if (0xDC00..<0xE000).contains(low) {
                            let value = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                            scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
                        } else {
                            scalars.append("\u{FFFD}")
                            scalars.append(Unicode.Scalar(low) ?? "\u{FFFD}")
                        }
                    } else {
                        // A lone surrogate cannot be represented in a Swift string.
                        scalars.append(Unicode.Scalar(unit) ?? "\u{FFFD}")
                    }
                default:
                    return nil
                }
                runStart = index
            }
            return nil
        }

        private mutating func parseHex4() -> UInt32? {
            guard index + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for offset in 0..<4 {
                let byte = bytes[index + offset]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt32(digit)
            }
            index += 4
            return value
        }
    }

    /// Appends `bytes` (valid UTF-8) as the contents of a JSON string, without the quotes, the
    /// way `JSON.stringify` escapes: `"`, `\`, and control characters. With
    /// `escapesLineSeparators`, U+2028 and U+2029 are escaped too, which makes the result valid
    /// JavaScript source (needed for JSONP).
    static func appendEscaped(_ bytes: UnsafeRawBufferPointer, to buffer: inout ByteBuffer, escapesLineSeparators: Bool)
    {
        var runStart = 0
        var index = 0
        func flush(_ end: Int, _ buffer: inout ByteBuffer) {
            if end > runStart { buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<end])) }
        }
        while index < bytes.count {
            let byte = bytes[index]
            var escape: StaticString? = nil
            var length = 1
            switch byte {
            case UInt8(ascii: "\""): escape = "\\\""
            case UInt8(ascii: "\\"): escape = "\\\\"
            case 0x08: escape = "\\b"
            case 0x0C: escape = "\\f"
            case 0x0A: escape = "\\n"
            case 0x0D: escape = "\\r"
            case 0x09: escape = "\\t"
            case 0xE2 where escapesLineSeparators && index + 2 < bytes.count && bytes[index + 1] == 0x80:
                if bytes[index + 2] == 0xA8 {
                    escape = "\\u2028"
                    length = 3
                } else if bytes[index + 2] == 0xA9 {
                    escape = "\\u2029"
                    length = 3
                }
            default:
                break
            }
            if let escape {
                flush(index, &buffer)
                buffer.writeStaticString(escape)
                index += length
                runStart = index
            } else if byte < 0x20 {
                flush(index, &buffer)
                buffer.writeStaticString("\\u00")
                buffer.writeInteger(hexDigit(byte >> 4))
                buffer.writeInteger(hexDigit(byte & 0x0F))
                index += 1
                runStart = index
            } else {
                index += 1
            }
        }
        flush(index, &buffer)
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }

    /// `string` as a quoted JSON string.
    static func quoted(_ string: String) -> String {
        var string = string
        var buffer = ByteBuffer()
        buffer.reserveCapacity(string.utf8.count + 2)
        buffer.writeInteger(UInt8(ascii: "\""))
        string.withUTF8 { appendEscaped(UnsafeRawBufferPointer($0), to: &buffer, escapesLineSeparators: false) }
        buffer.writeInteger(UInt8(ascii: "\""))
        return String(buffer: buffer)
    }
}
