import NIOCore

/// Writes compact JSON exactly as JavaScript's `JSON.stringify` does for the same value.
///
/// - Strings (ECMA-262 `QuoteJSONString`): `"` and `\` are escaped, U+0008/9/A/C/D become
///   `\b \t \n \f \r`, other code points below U+0020 become lowercase `\u00xx`. `/` and
///   non-ASCII are written as they are.
/// - Numbers (ECMA-262 `Number::toString`): ``JSONValue/int(_:)`` in full (exact, even beyond
///   2^53 where JavaScript would round); doubles with the shortest round-tripping digits, in
///   exponent form outside [1e-7, 1e21); non-finite as `null`.
/// - Binary: with `collectsAttachments`, each ``JSONValue/binary(_:)`` becomes a Socket.IO
///   placeholder `{"_placeholder":true,"num":N}` (numbered in discovery order) and its bytes
///   are collected in ``attachments``; otherwise it is written as Node's `Buffer.toJSON`
///   does, `{"type":"Buffer","data":[…]}`.
///
/// Two passes, so the output is allocated once at its exact size and filled through a raw
/// pointer: ``measure(_:)`` computes the byte count (and collects attachments and formatted
/// doubles), then ``write(_:to:progress:)`` writes exactly that many bytes (the
/// ``OutputCursor`` checks every write against its capacity).
struct JSONWriter {
    /// Whether binaries become placeholders (collected in ``attachments``).
    let collectsAttachments: Bool
    /// The binaries replaced by placeholders, in placeholder order (filled by ``measure(_:)``).
    private(set) var attachments: [ByteBuffer] = []
    /// Doubles formatted by ``measure(_:)``, written in the same order.
    private var formattedDoubles: [[UInt8]] = []
    /// Whether any measured string needs escapes; when none does, strings are copied as they are.
    private var measuredEscapes = false

    /// How far ``write(_:to:progress:)`` has gone through what ``measure(_:)`` collected.
    struct Progress {
        var placeholders = 0
        var doubles = 0
    }

    init(collectsAttachments: Bool = false) {
        self.collectsAttachments = collectsAttachments
    }

    // MARK: Pass 1

    /// The number of bytes ``write(_:to:)`` will write for `value`. Call once per value, before
    /// writing it.
    mutating func measure(_ value: JSONValue) -> Int {
        switch value {
        case .null:
            return 4
        case .bool(let flag):
            return flag ? 4 : 5
        case .int(let integer):
            return (integer < 0 ? 1 : 0) + Self.decimalDigitCount(integer.magnitude)
        case .double(let number):
            if let integer = Self.exactSmallInteger(number) {
                return (integer < 0 ? 1 : 0) + Self.decimalDigitCount(integer.magnitude)
            }
            guard number.isFinite else { return 4 }
            let text = Self.ecmaScriptText(of: number)
            formattedDoubles.append(text)
            return text.count
        case .string(let string):
            return measureString(string)
        case .array(let elements):
            var count = 2 + max(0, elements.count - 1)
            for index in elements.indices { count += measure(elements[index]) }
            return count
        case .object(let object):
            let members = object.members
            var count = 2 + max(0, members.count - 1)
            for index in members.indices {
                count += measureString(members[index].key) + 1 + measure(members[index].value)
            }
            return count
        case .binary(let buffer):
            if collectsAttachments {
                let number = attachments.count
                attachments.append(buffer)
                return Self.placeholderPrefix.utf8CodeUnitCount + Self.decimalDigitCount(UInt64(number)) + 1
            }
            var count = Self.bufferPrefix.utf8CodeUnitCount + Self.bufferSuffix.utf8CodeUnitCount
            count += max(0, buffer.readableBytes - 1)
            for byte in buffer.readableBytesView { count += byte < 10 ? 1 : byte < 100 ? 2 : 3 }
            return count
        }
    }

    private mutating func measureString(_ string: String) -> Int {
        let count = Self.withUTF8(of: string) { bytes in
            var count = bytes.count + 2
            var position = JSONStringScanner.scan(bytes, from: 0).index
            while position < bytes.count {
                count += Self.escapeLength(bytes[position]) - 1
                position = JSONStringScanner.scan(bytes, from: position + 1).index
            }
            return count
        }
        if count != string.utf8.count + 2 { measuredEscapes = true }
        return count
    }

    /// Calls `body` with the UTF-8 bytes of `string`, without copying native strings.
    @inline(__always)
    static func withUTF8<Result>(of string: String, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        if let result = string.utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        var string = string
        return string.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }

    @inline(__always)
    private static func escapeLength(_ byte: UInt8) -> Int {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x08, 0x09, 0x0A, 0x0C, 0x0D: return 2
        default: return 6  // \u00xx
        }
    }

    static func decimalDigitCount(_ value: UInt64) -> Int {
        var count = 1
        var rest = value
        while rest >= 10 {
            count += 1
            rest /= 10
        }
        return count
    }

    // MARK: Pass 2

    /// Writes `value`, which must have been measured.
    func write(_ value: JSONValue, to output: inout OutputCursor, progress: inout Progress) {
        switch value {
        case .null:
            output.append("null")
        case .bool(let flag):
            output.append(flag ? "true" : "false")
        case .int(let integer):
            output.appendInteger(integer)
        case .double(let number):
            if let integer = Self.exactSmallInteger(number) {
                output.appendInteger(integer)
            } else if !number.isFinite {
                // ECMA-262 SerializeJSONProperty: a non-finite number is "null".
                output.append("null")
            } else {
                formattedDoubles[progress.doubles].withUnsafeBytes { output.append($0) }
                progress.doubles += 1
            }
        case .string(let string):
            writeString(string, to: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for index in elements.indices {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                write(elements[index], to: &output, progress: &progress)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            output.append(UInt8(ascii: "{"))
            let members = object.members
            for index in members.indices {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                writeString(members[index].key, to: &output)
                output.append(UInt8(ascii: ":"))
                write(members[index].value, to: &output, progress: &progress)
            }
            output.append(UInt8(ascii: "}"))
        case .binary(let buffer):
            if collectsAttachments {
                // socket.io-parser `deconstructPacket`: { _placeholder: true, num: buffers.length }
                output.append(Self.placeholderPrefix)
                output.appendDecimal(UInt64(progress.placeholders))
                output.append(UInt8(ascii: "}"))
                progress.placeholders += 1
            } else {
                output.append(Self.bufferPrefix)
                var isFirst = true
                for byte in buffer.readableBytesView {
                    if !isFirst { output.append(UInt8(ascii: ",")) }
                    isFirst = false
                    output.appendDecimal(UInt64(byte))
                }
                output.append(Self.bufferSuffix)
            }
        }
    }

    @inline(__always)
    private func writeString(_ string: String, to output: inout OutputCursor) {
        if measuredEscapes {
            output.appendQuoted(string)
        } else {
            output.append(UInt8(ascii: "\""))
            output.appendRaw(string)
            output.append(UInt8(ascii: "\""))
        }
    }

    private static let placeholderPrefix: StaticString = "{\"_placeholder\":true,\"num\":"
    private static let bufferPrefix: StaticString = "{\"type\":\"Buffer\",\"data\":["
    private static let bufferSuffix: StaticString = "]}"

    // MARK: Whole values

    /// Writes `value` after it has been measured; a whole document.
    func write(_ value: JSONValue, to output: inout OutputCursor) {
        var progress = Progress()
        write(value, to: &output, progress: &progress)
    }

    /// `value` as a `String`, allocated once at its exact size.
    static func string(_ value: JSONValue) -> String {
        var measuring = JSONWriter()
        let count = measuring.measure(value)
        let writer = measuring
        return String(unsafeUninitializedCapacity: count) { buffer in
            var output = OutputCursor(buffer)
            writer.write(value, to: &output)
            return output.finish()
        }
    }

    /// `value` as UTF-8 bytes, allocated once at their exact size.
    static func bytes(_ value: JSONValue) -> [UInt8] {
        var measuring = JSONWriter()
        let count = measuring.measure(value)
        let writer = measuring
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initializedCount in
            var output = OutputCursor(buffer)
            writer.write(value, to: &output)
            initializedCount = output.finish()
        }
    }

    /// Appends `value` to `buffer`, growing it at most once.
    static func write(_ value: JSONValue, to buffer: inout ByteBuffer) {
        var measuring = JSONWriter()
        let count = measuring.measure(value)
        let writer = measuring
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
            var output = OutputCursor(UnsafeMutableBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[0..<count]))
            writer.write(value, to: &output)
            return output.finish()
        }
    }

    // MARK: Numbers

    /// The integer equal to `number` when JavaScript writes it in full: below 2^53 an integral
    /// double's shortest digits are the integer itself; above, JS writes the shortest digits
    /// padded with zeros (2^60 is "1152921504606847000"), so those go through `Number::toString`.
    private static func exactSmallInteger(_ number: Double) -> Int64? {
        guard number.magnitude < 0x1p53 else { return nil }
        return Int64(exactly: number)
    }

    /// ECMA-262 `Number::toString` of a finite, non-integral (or ≥ 2^53) double.
    static func ecmaScriptText(of number: Double) -> [UInt8] {
        let (digits, n) = shortestDigits(of: number.magnitude)
        let k = digits.count
        var text: [UInt8] = []
        text.reserveCapacity(k + 8)
        if number < 0 { text.append(UInt8(ascii: "-")) }
        // ECMA-262 Number::toString(x), steps for k digits and exponent n (x = 0.d1…dk × 10^n).
        if k <= n && n <= 21 {
            text.append(contentsOf: digits)
            text.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: n - k))
        } else if 0 < n && n <= 21 {
            text.append(contentsOf: digits[0..<n])
            text.append(UInt8(ascii: "."))
            text.append(contentsOf: digits[n...])
        } else if -6 < n && n <= 0 {
            text.append(contentsOf: "0.".utf8)
            text.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -n))
            text.append(contentsOf: digits)
        } else {
            text.append(digits[0])
            if k > 1 {
                text.append(UInt8(ascii: "."))
                text.append(contentsOf: digits[1...])
            }
            text.append(UInt8(ascii: "e"))
            text.append(n - 1 < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            text.append(contentsOf: String((n - 1).magnitude).utf8)
        }
        return text
    }

    /// The shortest round-tripping decimal digits `d1…dk` of a positive finite `value`, and
    /// `n` such that `value = 0.d1…dk × 10^n`. Swift's `description` already produces the
    /// shortest round-tripping digits; only its layout differs from ECMAScript's.
    static func shortestDigits(of value: Double) -> (digits: [UInt8], exponent: Int) {
        var digits: [UInt8] = []
        var integerDigitCount = 0
        var inFraction = false
        var exponent = 0
        var exponentIsNegative = false
        var inExponent = false
        for byte in value.description.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if inExponent {
                    exponent = exponent * 10 + Int(byte - UInt8(ascii: "0"))
                } else {
                    digits.append(byte)
                    if !inFraction { integerDigitCount += 1 }
                }
            case UInt8(ascii: "."): inFraction = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"): inExponent = true
            case UInt8(ascii: "-"): exponentIsNegative = inExponent
            default: break
            }
        }
        if exponentIsNegative { exponent = -exponent }
        let leadingZeros = digits.prefix { $0 == UInt8(ascii: "0") }.count
        digits.removeFirst(leadingZeros)
        while digits.last == UInt8(ascii: "0") { digits.removeLast() }
        return (digits, integerDigitCount - leadingZeros + exponent)
    }
}

/// A write position in a buffer of known capacity. Every write is checked against the
/// capacity, so a measuring bug traps instead of corrupting memory.
struct OutputCursor {
    private let buffer: UnsafeMutableBufferPointer<UInt8>
    private var offset = 0

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        self.buffer = buffer
    }

    /// The number of bytes written; traps if it differs from the measured capacity.
    func finish() -> Int {
        precondition(offset == buffer.count, "JSONWriter measured \(buffer.count) bytes but wrote \(offset)")
        return offset
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        precondition(offset < buffer.count, "JSONWriter wrote past its measured size")
        buffer[offset] = byte
        offset += 1
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, let target = buffer.baseAddress else { return }
        precondition(bytes.count <= buffer.count - offset, "JSONWriter wrote past its measured size")
        UnsafeMutableRawPointer(target + offset).copyMemory(from: source, byteCount: bytes.count)
        offset += bytes.count
    }

    mutating func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends `text`'s UTF-8 bytes without escaping (for packet headers).
    mutating func appendRaw(_ text: String) {
        JSONWriter.withUTF8(of: text) { append($0) }
    }

    mutating func appendInteger(_ integer: Int64) {
        if integer < 0 { append(UInt8(ascii: "-")) }
        appendDecimal(integer.magnitude)
    }

    mutating func appendDecimal(_ value: UInt64) {
        let count = JSONWriter.decimalDigitCount(value)
        precondition(count <= buffer.count - offset, "JSONWriter wrote past its measured size")
        var remaining = value
        var position = offset + count - 1
        repeat {
            buffer[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: remaining % 10)
            remaining /= 10
            position -= 1
        } while remaining > 0
        offset += count
    }

    /// Appends `string` as a quoted, escaped JSON string (ECMA-262 `QuoteJSONString`).
    mutating func appendQuoted(_ string: String) {
        append(UInt8(ascii: "\""))
        JSONWriter.withUTF8(of: string) { bytes in
            var runStart = 0
            var position = JSONStringScanner.scan(bytes, from: 0).index
            while position < bytes.count {
                append(UnsafeRawBufferPointer(rebasing: bytes[runStart..<position]))
                let byte = bytes[position]
                append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): append(byte)
                case 0x08: append(UInt8(ascii: "b"))
                case 0x09: append(UInt8(ascii: "t"))
                case 0x0A: append(UInt8(ascii: "n"))
                case 0x0C: append(UInt8(ascii: "f"))
                case 0x0D: append(UInt8(ascii: "r"))
                default:
                    append("u00")
                    append(Self.hexDigit(byte >> 4))
                    append(Self.hexDigit(byte & 0xF))
                }
                runStart = position + 1
                position = JSONStringScanner.scan(bytes, from: runStart).index
            }
            append(UnsafeRawBufferPointer(rebasing: bytes[runStart..<bytes.count]))
        }
        append(UInt8(ascii: "\""))
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
