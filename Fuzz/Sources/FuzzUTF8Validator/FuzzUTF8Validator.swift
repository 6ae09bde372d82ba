import DuplexWebSocketCore
import FuzzSupport

// `UTF8Validator` (RFC 3629, RFC 6455 §8.1), whole and incremental over chunks, differential
// against the standard library and against a direct transcription of RFC 3629 §4's table.
//
// Input: [split seed] [bytes...].
//
// Oracle: `isValid` agrees with `String(validating:as:)` and with decode-then-re-encode; fed in
// chunks, `validate` returns false exactly from the chunk holding the first byte that no valid
// UTF-8 text can have at that place, and `isComplete` at the end means "valid".

/// The executable's entry point under SwiftPM's debug-build name (see `runLibFuzzer`).
@_cdecl("FuzzUTF8Validator_main")
public func fuzzUTF8ValidatorMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzUTF8Validator)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzUTF8Validator(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    var splitter = ChunkSplitter(seed: input.byte(), maxChunk: 12)
    let bytes = input.rest()

    let reference = RFC3629Scan(bytes)
    let standardLibrary = String(validating: bytes, as: UTF8.self) != nil
    let roundTrip = Array(String(decoding: bytes, as: UTF8.self).utf8) == bytes
    let whole = bytes.withUnsafeBytes { UTF8Validator.isValid($0) }
    expect(standardLibrary == reference.isValid, "RFC 3629 scan and the standard library disagree on \(hex(bytes))")
    expect(roundTrip == reference.isValid, "decode/re-encode and the RFC 3629 scan disagree on \(hex(bytes))")
    expect(whole == reference.isValid, "isValid is \(whole) for \(hex(bytes))")

    var validator = UTF8Validator()
    var end = 0
    var stillValid = true
    for chunk in splitter.split(bytes) {
        end += chunk.count
        let result = chunk.withUnsafeBytes { validator.validate($0) }
        let expected = reference.firstInvalidIndex.map { $0 >= end } ?? true
        expect(result == expected, "validate returned \(result) after \(end) bytes of \(hex(bytes))")
        stillValid = result
    }
    expect(
        (stillValid && validator.isComplete) == reference.isValid,
        "incremental validation ends \(stillValid)/\(validator.isComplete) for \(hex(bytes))"
    )
    return 0
}

/// A straight reading of RFC 3629 §4 ("UTF8-octets"): where the first impossible byte is, and
/// whether the text ends on a complete character.
private struct RFC3629Scan {
    var firstInvalidIndex: Int? = nil
    var endsComplete = true
    var isValid: Bool { firstInvalidIndex == nil && endsComplete }

    init(_ bytes: [UInt8]) {
        var index = 0
        while index < bytes.count {
            let lead = bytes[index]
            let length: Int
            var second: ClosedRange<UInt8> = 0x80...0xBF
            switch lead {
            case 0x00...0x7F: length = 1
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; second = 0xA0...0xBF
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; second = 0x80...0x9F
            case 0xF0: length = 4; second = 0x90...0xBF
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; second = 0x80...0x8F
            default:
                firstInvalidIndex = index
                return
            }
            for offset in 1..<length {
                guard index + offset < bytes.count else {
                    endsComplete = false
                    return
                }
                let range = offset == 1 ? second : 0x80...0xBF
                guard range.contains(bytes[index + offset]) else {
                    firstInvalidIndex = index + offset
                    return
                }
            }
            index += length
        }
    }
}
