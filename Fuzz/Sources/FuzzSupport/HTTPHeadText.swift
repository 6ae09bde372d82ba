/// A fuzzer input read as a simplified HTTP head: a first line, then `name: value` lines.
/// Lines end at LF (a CR before it is dropped). Harnesses build typed requests from it, so the
/// fuzzer mutates readable text instead of binary structures.
public struct HTTPHeadText {
    /// The first line, e.g. `GET /chat HTTP/1.1`.
    public var firstLine: String
    /// The header lines split at the first colon, value with surrounding blanks trimmed.
    public var fields: [(name: String, value: String)]

    /// Splits `bytes` (decoded as UTF-8, invalid sequences replaced).
    public init(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.last == "\r" ? line.dropLast() : line
        }
        firstLine = lines.isEmpty ? "" : String(lines.removeFirst())
        fields = lines.compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let value = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            return (String(line[..<colon]), String(value))
        }
    }
}
