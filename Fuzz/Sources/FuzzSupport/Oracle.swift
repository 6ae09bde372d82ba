/// The oracle's assertions. A violated expectation traps, which libFuzzer records as a crash
/// with the input that caused it; the message names the broken rule.
public func expect(
    _ condition: @autoclosure () -> Bool,
    _ message: @autoclosure () -> String,
    file: StaticString = #fileID,
    line: UInt = #line
) {
    if !condition() { violated(message(), file: file, line: line) }
}

/// Reports a broken rule and traps.
public func violated(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    // fatalError prints a C string: a NUL from the input would cut the message short.
    fatalError("fuzz oracle: \(message.split(separator: "\0", omittingEmptySubsequences: false).joined(separator: "\\0"))", file: file, line: line)
}

/// Hex of at most the first `limit` bytes, for oracle messages.
public func hex(_ bytes: some Sequence<UInt8>, limit: Int = 64) -> String {
    bytes.prefix(limit).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}
