import Testing

@testable import DuplexWebSocketCore

/// RFC 3629 §4 syntax, written out literally as the reference:
///
///     UTF8-2 = %xC2-DF UTF8-tail
///     UTF8-3 = %xE0 %xA0-BF UTF8-tail / %xE1-EC 2( UTF8-tail ) / %xED %x80-9F UTF8-tail / %xEE-EF 2( UTF8-tail )
///     UTF8-4 = %xF0 %x90-BF 2( UTF8-tail ) / %xF1-F3 3( UTF8-tail ) / %xF4 %x80-8F 2( UTF8-tail )
///
/// Returns the length of the longest prefix of `bytes` that can still be extended into valid
/// UTF-8 (so `bytes.count` when no byte is wrong yet), and whether `bytes` is complete valid UTF-8.
private func referenceScan(_ bytes: [UInt8]) -> (extendablePrefix: Int, isValid: Bool) {
    var index = 0
    while index < bytes.count {
        let lead = bytes[index]
        let length: Int
        let second: ClosedRange<UInt8>
        switch lead {
        case 0x00...0x7F: index += 1; continue
        case 0xC2...0xDF: (length, second) = (2, 0x80...0xBF)
        case 0xE0: (length, second) = (3, 0xA0...0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: (length, second) = (3, 0x80...0xBF)
        case 0xED: (length, second) = (3, 0x80...0x9F)
        case 0xF0: (length, second) = (4, 0x90...0xBF)
        case 0xF1...0xF3: (length, second) = (4, 0x80...0xBF)
        case 0xF4: (length, second) = (4, 0x80...0x8F)
        default: return (index, false)
        }
        for offset in 1..<length {
            guard index + offset < bytes.count else { return (bytes.count, false) }  // truncated
            let range = offset == 1 ? second : 0x80...0xBF
            guard range.contains(bytes[index + offset]) else { return (index + offset, false) }
        }
        index += length
    }
    return (bytes.count, true)
}

private func validatorAccepts(_ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { UTF8Validator.isValid($0) }
}

private func stdlibAccepts(_ bytes: [UInt8]) -> Bool {
    String(validating: bytes, as: UTF8.self) != nil
}

/// Feeds `bytes` one at a time; returns the index of the byte at which the validator first
/// reported failure (nil if never) and whether it ended complete.
private func byteAtATime(_ bytes: [UInt8]) -> (failedAt: Int?, complete: Bool) {
    var validator = UTF8Validator()
    for (index, byte) in bytes.enumerated() {
        let ok = withUnsafeBytes(of: byte) { validator.validate($0) }
        if !ok { return (index, false) }
    }
    return (nil, validator.isComplete)
}

@Suite("RFC 6455 §8.1 / RFC 3629: UTF-8 validation")
struct UTF8ValidatorTests {
    @Test("every single byte: valid alone iff ASCII", arguments: 0...255)
    func everySingleByte(byte: Int) {
        let bytes = [UInt8(byte)]
        #expect(validatorAccepts(bytes) == (byte < 0x80))
        #expect(validatorAccepts(bytes) == stdlibAccepts(bytes))
    }

    @Test("every two-byte sequence agrees with RFC 3629 and the standard library", arguments: 0...255)
    func everyTwoByteSequence(first: Int) {
        var mismatches: [[UInt8]] = []
        for second in 0...255 {
            let bytes = [UInt8(first), UInt8(second)]
            let expected = referenceScan(bytes).isValid
            if validatorAccepts(bytes) != expected || stdlibAccepts(bytes) != expected { mismatches.append(bytes) }
        }
        #expect(mismatches.isEmpty)
    }

    @Test("three- and four-byte sequences around every boundary", arguments: 0xC0...0xFF)
    func multiByteSequences(lead: Int) {
        let interesting: [UInt8] = [0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xF0, 0xFF]
        var mismatches: [[UInt8]] = []
        for second in 0...255 {
            for third in interesting {
                for fourth in [nil, 0x80, 0xBF, 0xC0] as [UInt8?] {
                    var bytes = [UInt8(lead), UInt8(second), third]
                    if let fourth { bytes.append(fourth) }
                    let expected = referenceScan(bytes).isValid
                    if validatorAccepts(bytes) != expected { mismatches.append(bytes) }
                    // The standard library is slow in debug builds: cross-check the reference on a sample.
                    if fourth == 0x80, stdlibAccepts(bytes) != expected { mismatches.append(bytes) }
                }
            }
        }
        #expect(mismatches.isEmpty)
    }

    @Test(
        "crafted sequences (Markus Kuhn's stress test and Autobahn §6)",
        arguments: [
            ([0x48, 0x65, 0x6C, 0x6C, 0x6F], true),
            ([0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5], true),  // κόσμε
            ([0xC2, 0x80], true),  // U+0080
            ([0xDF, 0xBF], true),  // U+07FF
            ([0xE0, 0xA0, 0x80], true),  // U+0800
            ([0xED, 0x9F, 0xBF], true),  // U+D7FF
            ([0xEE, 0x80, 0x80], true),  // U+E000
            ([0xEF, 0xBF, 0xBF], true),  // U+FFFF
            ([0xEF, 0xBF, 0xBE], true),  // U+FFFE: a noncharacter, but valid UTF-8
            ([0xF0, 0x90, 0x80, 0x80], true),  // U+10000
            ([0xF4, 0x8F, 0xBF, 0xBF], true),  // U+10FFFF
            ([0xC0, 0x80], false),  // overlong NUL
            ([0xC0, 0xAF], false),  // overlong "/"
            ([0xC1, 0xBF], false),  // overlong U+007F
            ([0xE0, 0x80, 0xAF], false),  // overlong "/"
            ([0xE0, 0x9F, 0xBF], false),  // overlong U+07FF
            ([0xF0, 0x80, 0x80, 0xAF], false),  // overlong "/"
            ([0xF0, 0x8F, 0xBF, 0xBF], false),  // overlong U+FFFF
            ([0xF8, 0x88, 0x80, 0x80, 0x80], false),  // 5-byte form
            ([0xFC, 0x84, 0x80, 0x80, 0x80, 0x80], false),  // 6-byte form
            ([0xED, 0xA0, 0x80], false),  // U+D800, a surrogate
            ([0xED, 0xAD, 0xBF], false),  // U+DB7F
            ([0xED, 0xBF, 0xBF], false),  // U+DFFF
            ([0xED, 0xA0, 0x80, 0xED, 0xB0, 0x80], false),  // a surrogate pair encoded separately
            ([0xF4, 0x90, 0x80, 0x80], false),  // U+110000
            ([0xF5, 0x80, 0x80, 0x80], false),
            ([0xF7, 0xBF, 0xBF, 0xBF], false),
            ([0xFE], false), ([0xFF], false), ([0xFE, 0xFE, 0xFF, 0xFF], false),
            ([0x80], false), ([0xBF], false), ([0x80, 0xBF, 0x80], false),  // lone continuations
            ([0xC2], false), ([0xE0, 0xA0], false), ([0xF0, 0x90, 0x80], false),  // truncated
            ([0xC2, 0x41], false), ([0xE1, 0x80, 0x41], false), ([0xF1, 0x80, 0x80, 0x41], false),
            (
                [0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64],
                false
            ),
        ] as [([UInt8], Bool)]
    )
    func crafted(bytes: [UInt8], valid: Bool) {
        #expect(referenceScan(bytes).isValid == valid)
        #expect(stdlibAccepts(bytes) == valid)
        #expect(validatorAccepts(bytes) == valid)
    }

    @Test("random bytes agree with RFC 3629 and the standard library", arguments: 0..<16)
    func randomBytes(seed: Int) {
        var random = SeededRandom(seed: UInt64(seed))
        var mismatches: [[UInt8]] = []
        for _ in 0..<3000 {
            let bytes = random.bytes(Int.random(in: 0...12, using: &random))
            let expected = referenceScan(bytes).isValid
            if validatorAccepts(bytes) != expected || stdlibAccepts(bytes) != expected { mismatches.append(bytes) }
        }
        #expect(mismatches.isEmpty)
    }

    @Test("random valid text, then one byte changed, agrees with the references", arguments: 0..<16)
    func mutatedText(seed: Int) {
        var random = SeededRandom(seed: UInt64(seed) &+ 77)
        var mismatches: [[UInt8]] = []
        for _ in 0..<500 {
            var scalars = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...40, using: &random) {
                let planes: [ClosedRange<UInt32>] = [0...0x7F, 0x80...0x7FF, 0x800...0xD7FF, 0xE000...0xFFFF, 0x10000...0x10FFFF]
                let range = planes[Int.random(in: 0..<planes.count, using: &random)]
                if let scalar = Unicode.Scalar(UInt32.random(in: range, using: &random)) { scalars.append(scalar) }
            }
            var bytes = Array(String(scalars).utf8)
            if !validatorAccepts(bytes) { mismatches.append(bytes) }
            guard !bytes.isEmpty else { continue }
            bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            let expected = referenceScan(bytes).isValid
            if validatorAccepts(bytes) != expected || stdlibAccepts(bytes) != expected { mismatches.append(bytes) }
        }
        #expect(mismatches.isEmpty)
    }

    @Test("fail fast: fed byte by byte, the validator fails at the first byte no valid text can follow", arguments: 0..<8)
    func failsAtTheFirstImpossibleByte(seed: Int) {
        var random = SeededRandom(seed: UInt64(seed) &+ 4242)
        var mismatches: [[UInt8]] = []
        for _ in 0..<2000 {
            // Bias towards bytes that start or continue sequences.
            let alphabet: [UInt8] = [0x41, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF]
            let bytes = (0..<Int.random(in: 1...10, using: &random)).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &random)]
            }
            let reference = referenceScan(bytes)
            let expectedFailure: Int? = reference.extendablePrefix < bytes.count ? reference.extendablePrefix : nil
            let (failedAt, complete) = byteAtATime(bytes)
            if failedAt != expectedFailure || (failedAt == nil && complete != reference.isValid) { mismatches.append(bytes) }
        }
        #expect(mismatches.isEmpty)
    }

    @Test("a text split in two at every position validates the same as whole")
    func splitAtEveryPosition() {
        let texts: [[UInt8]] = [
            Array("Hello-µ@ßöäüàá-UTF-8!! κόσμε 𝄞 \u{10FFFF}".utf8),
            [0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xED, 0xA0, 0x80, 0x65],
            [0xF4, 0x90, 0x80, 0x80],
            [0xF0, 0x90, 0x80],
        ]
        for bytes in texts {
            let whole = validatorAccepts(bytes)
            for cut in 0...bytes.count {
                var validator = UTF8Validator()
                let first = bytes[..<cut].withUnsafeBytes { validator.validate($0) }
                let second = first && bytes[cut...].withUnsafeBytes { validator.validate($0) }
                #expect((second && validator.isComplete) == whole, "cut at \(cut) of \(bytes)")
            }
        }
    }

    @Test("the ASCII fast path finds a bad byte at any position of a long text", arguments: 0..<40)
    func asciiFastPath(position: Int) {
        var bytes = [UInt8](repeating: 0x61, count: 40)
        for bad: UInt8 in [0x80, 0xFF, 0xC0] {
            bytes[position] = bad
            #expect(!validatorAccepts(bytes))
        }
        bytes[position] = 0xC3
        if position + 1 < bytes.count {
            bytes[position + 1] = 0xA9  // é: valid
            #expect(validatorAccepts(bytes))
        } else {
            #expect(!validatorAccepts(bytes))  // truncated at the very end
        }
    }

    @Test("a truncated sequence is not an error until the end of the text")
    func truncationIsNotAnErrorMidStream() {
        var validator = UTF8Validator()
        #expect(([0xF0, 0x9F] as [UInt8]).withUnsafeBytes { validator.validate($0) })
        #expect(!validator.isComplete)
        #expect(([0x98] as [UInt8]).withUnsafeBytes { validator.validate($0) })
        #expect(!validator.isComplete)
        #expect(([0x80] as [UInt8]).withUnsafeBytes { validator.validate($0) })
        #expect(validator.isComplete)
        // An empty chunk changes nothing, even after a failure.
        #expect([UInt8]().withUnsafeBytes { validator.validate($0) })
        #expect(!([0xFF] as [UInt8]).withUnsafeBytes { validator.validate($0) })
        #expect(![UInt8]().withUnsafeBytes { validator.validate($0) })
        #expect(!([0x41] as [UInt8]).withUnsafeBytes { validator.validate($0) })
        validator.reset()
        #expect(([0x41] as [UInt8]).withUnsafeBytes { validator.validate($0) })
        #expect(validator.isComplete)
    }

    @Test("reset forgets a sequence in progress")
    func resetMidSequence() {
        var validator = UTF8Validator()
        #expect(([0xE2, 0x82] as [UInt8]).withUnsafeBytes { validator.validate($0) })
        validator.reset()
        #expect(validator.isComplete)
        #expect(!([0xAC] as [UInt8]).withUnsafeBytes { validator.validate($0) })
    }
}
