import DuplexSocketIOCore
import FuzzJSONSupport
import FuzzSupport

// The Socket.IO core's strict RFC 8259 JSON parser and its writer.
//
// Input: [maxDepth] [JSON text...].
//
// Oracle: parsing fails only with `invalidJSON` or `jsonTooDeep`; a parsed value serializes to
// text that parses back to an equal value (a literal beyond the double range reads as an
// infinity, which is written `null`, as JavaScript's JSON.parse and JSON.stringify do; a
// double of 2^53 or more is written as JavaScript's integer digits, which read back as the
// integer those digits name, equal to the double only once rounded to a double), and
// serializing that again gives the same text (the writer's output is canonical).

/// The executable's entry point under SwiftPM's debug-build name (see `runLibFuzzer`).
@_cdecl("FuzzJSON_main")
public func fuzzJSONMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzJSON)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let maxDepth = input.int(in: 0...40)
    let bytes = input.rest()

    let value: JSONValue
    do {
        value = try JSONValue(parsing: bytes, maxDepth: maxDepth)
    } catch {
        expect(error.code == .invalidJSON || error.code == .jsonTooDeep, "parser threw \(error.code): \(error.message)")
        return 0
    }
    let text = value.jsonString
    expect(value.jsonBytes == Array(text.utf8), "jsonBytes and jsonString differ for \(text)")
    do {
        let again = try JSONValue(parsing: text, maxDepth: maxDepth)
        expect(again.isSameNumberwise(as: value.withInfinitiesAsNull), "\(hex(bytes)) parses as \(text), which parses as \(again.jsonString)")
        expect(again.jsonString == text, "serialization of \(text) is not canonical: \(again.jsonString)")
    } catch {
        violated("\(hex(bytes)) parses, but its serialization \(text) does not: \(error)")
    }
    return 0
}

