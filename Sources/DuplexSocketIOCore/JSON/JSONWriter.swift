import NIOCore

/// Writes compact JSON exactly as JavaScript's `JSON.stringify` does for the same value.
///
/// - Strings (ECMA-262 `QuoteJSONString`): `"` and `\` are escaped, U+0008/9/A/C/D become
///   `\b \t \n \f \r`, other code points below U+0020 become lowercase `\u00xx`. `/` and
///   non-ASCII are written as they are.
/// - Numbers (ECMA-262 `Number::toString`): integers in full; other values with the shortest
///   round-tripping digits, in exponent form outside [1e-7, 1e21); non-finite as `null`.
/// - Binary: with `attachments` set, each ``JSONValue/binary(_:)`` becomes a Socket.IO
///   placeholder `{"_placeholder":true,"num":N}` (numbered in discovery order) and its bytes
///   are collected; otherwise it is written as Node's `Buffer.toJSON` does,
///   `{"type":"Buffer","data":[…]}`.
struct JSONWriter {
    var output: [UInt8]
    /// When non-nil, binaries are replaced by placeholders and collected here.
    var attachments: [ByteBuffer]?

    init(output: [UInt8] = [], collectingAttachments: Bool = false) {
        self.output = output
        self.attachments = collectingAttachments ? [] : nil
    }

    mutating func write(_ value: JSONValue) {
        switch value {
        case .null:
            appendASCII("null")
        case .bool(let flag):
            appendASCII(flag ? "true" : "false")
        case .int(let integer):
            writeInteger(integer)
        case .double(let number):
            writeDouble(number)
        case .string(let string):
            writeString(string)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            var isFirst = true
            for element in elements {
                if !isFirst { output.append(UInt8(ascii: ",")) }
                isFirst = false
                write(element)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            output.append(UInt8(ascii: "{"))
            var isFirst = true
            for member in object.members {
                if !isFirst { output.append(UInt8(ascii: ",")) }
                isFirst = false
                writeString(member.key)
                output.append(UInt8(ascii: ":"))
                write(member.value)
            }
            output.append(UInt8(ascii: "}"))
        case .binary(let buffer):
            writeBinary(buffer)
        }
    }

    mutating func appendASCII(_ text: StaticString) {
        output.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends `text`'s UTF-8 bytes without escaping (for packet headers).
    mutating func appendRaw(_ text: String) {
        var text = text
        text.withUTF8 { output.append(contentsOf: $0) }
    }

    mutating func writeInteger(_ integer: Int64) {
        if integer < 0 { output.append(UInt8(ascii: "-")) }
        writeDecimal(integer.magnitude)
    }

    mutating func writeDecimal(_ value: UInt64) {
        var digitCount = 1
        var rest = value / 10
        while rest > 0 {
            digitCount += 1
            rest /= 10
        }
        let start = output.count
        output.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: digitCount))
        var remaining = value
        var position = start + digitCount - 1
        while remaining > 0 {
            output[position] = UInt8(ascii: "0") + UInt8(remaining % 10)
            remaining /= 10
            position -= 1
        }
    }

    mutating func writeString(_ string: String) {
        output.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { writeEscaped($0) }
        output.append(UInt8(ascii: "\""))
    }

    private mutating func writeEscaped(_ bytes: UnsafeBufferPointer<UInt8>) {
        var runStart = 0
        for position in 0..<bytes.count {
            let byte = bytes[position]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<position]))
            runStart = position + 1
            output.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): output.append(byte)
            case 0x08: output.append(UInt8(ascii: "b"))
            case 0x09: output.append(UInt8(ascii: "t"))
            case 0x0A: output.append(UInt8(ascii: "n"))
            case 0x0C: output.append(UInt8(ascii: "f"))
            case 0x0D: output.append(UInt8(ascii: "r"))
            default:
                appendASCII("u00")
                output.append(Self.hexDigits[Int(byte >> 4)])
                output.append(Self.hexDigits[Int(byte & 0xF)])
            }
        }
        output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count]))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private mutating func writeBinary(_ buffer: ByteBuffer) {
        if attachments != nil {
            // socket.io-parser `deconstructPacket`: { _placeholder: true, num: buffers.length }
            appendASCII("{\"_placeholder\":true,\"num\":")
            writeDecimal(UInt64(attachments?.count ?? 0))
            output.append(UInt8(ascii: "}"))
            attachments?.append(buffer)
            return
        }
        appendASCII("{\"type\":\"Buffer\",\"data\":[")
        buffer.withUnsafeReadableBytes { bytes in
            for (position, byte) in bytes.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                writeDecimal(UInt64(byte))
            }
        }
        appendASCII("]}")
    }

    // MARK: Numbers

    mutating func writeDouble(_ number: Double) {
        // ECMA-262 SerializeJSONProperty: a non-finite number is "null".
        guard number.isFinite else {
            appendASCII("null")
            return
        }
        if let integer = Int64(exactly: number) {
            writeInteger(integer)
            return
        }
        let (digits, exponent) = Self.shortestDigits(of: number.magnitude)
        if number < 0 { output.append(UInt8(ascii: "-")) }
        writeECMAScriptNumber(digits: digits, exponent: exponent)
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

    // ECMA-262 Number::toString(x), steps for k digits and exponent n (x = 0.d1…dk × 10^n).
    private mutating func writeECMAScriptNumber(digits: [UInt8], exponent n: Int) {
        let k = digits.count
        if k <= n && n <= 21 {
            output.append(contentsOf: digits)
            output.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: n - k))
        } else if 0 < n && n <= 21 {
            output.append(contentsOf: digits[0..<n])
            output.append(UInt8(ascii: "."))
            output.append(contentsOf: digits[n...])
        } else if -6 < n && n <= 0 {
            appendASCII("0.")
            output.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -n))
            output.append(contentsOf: digits)
        } else {
            output.append(digits[0])
            if k > 1 {
                output.append(UInt8(ascii: "."))
                output.append(contentsOf: digits[1...])
            }
            output.append(UInt8(ascii: "e"))
            output.append(n - 1 < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            writeDecimal(UInt64((n - 1).magnitude))
        }
    }
}
