/// `application/x-www-form-urlencoded` decoding (WHATWG URL, "urlencoded parser"), used for
/// query strings and JSONP form bodies. Strict: a `%` not followed by two hex digits is an error.
enum PercentDecoding {
    /// Decodes `bytes`, turning `+` into a space. Returns `nil` on a malformed escape.
    static func decode(_ bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        var output = [UInt8]()
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "+"):
                output.append(UInt8(ascii: " "))
                index += 1
            case UInt8(ascii: "%"):
                guard index + 2 < bytes.count, let high = hexValue(bytes[index + 1]),
                    let low = hexValue(bytes[index + 2])
                else { return nil }
                output.append(high << 4 | low)
                index += 3
            default:
                // Copy the run up to the next escape in bulk.
                var end = index + 1
                while end < bytes.count, bytes[end] != UInt8(ascii: "%"), bytes[end] != UInt8(ascii: "+") { end += 1 }
                output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<end]))
                index = end
            }
        }
        return output
    }

    /// Decodes a query-string component into a string. Returns `nil` on a malformed escape or
    /// invalid UTF-8.
    static func decodeString(_ component: Substring) -> String? {
        let utf8 = component.utf8
        guard utf8.contains(UInt8(ascii: "%")) || utf8.contains(UInt8(ascii: "+")) else {
            return String(component)
        }
        var component = component
        let decoded = component.withUTF8 { decode(UnsafeRawBufferPointer($0)) }
        guard let decoded else { return nil }
        return String(validating: decoded, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
