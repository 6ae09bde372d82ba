import NIOCore

@testable import DuplexWebSocketCore

/// A reference encoder written from RFC 6455 §5.2 byte by byte, independent of `FrameSerializer`,
/// so that parser tests do not trust the code under test to build their inputs.
enum WireFrame {
    /// The bytes of one frame. `rsv` holds the three RSV bits in their header positions
    /// (0x40 = RSV1, 0x20 = RSV2, 0x10 = RSV3); `opcode` is taken raw so reserved values can be sent.
    static func bytes(
        fin: Bool = true,
        rsv: UInt8 = 0,
        opcode: UInt8,
        payload: [UInt8],
        maskKey: [UInt8]? = nil
    ) -> [UInt8] {
        var out: [UInt8] = [(fin ? 0x80 : 0) | rsv | (opcode & 0x0F)]
        let maskBit: UInt8 = maskKey == nil ? 0 : 0x80
        let length = payload.count
        if length <= 125 {
            out.append(maskBit | UInt8(length))
        } else if length <= 0xFFFF {
            out.append(maskBit | 126)
            out += [UInt8(length >> 8), UInt8(length & 0xFF)]
        } else {
            out.append(maskBit | 127)
            out += (0..<8).reversed().map { UInt8(truncatingIfNeeded: UInt64(length) >> (UInt64($0) * 8)) }
        }
        guard let maskKey else { return out + payload }
        return out + maskKey + naiveMask(payload, key: maskKey)
    }

    /// A frame as the given sender puts it on the wire: clients mask (RFC 6455 §5.3), servers do not.
    static func bytes(
        from sender: Role,
        fin: Bool = true,
        rsv: UInt8 = 0,
        opcode: Opcode,
        payload: [UInt8]
    ) -> [UInt8] {
        bytes(
            fin: fin,
            rsv: rsv,
            opcode: opcode.rawValue,
            payload: payload,
            maskKey: sender == .client ? [0x37, 0xFA, 0x21, 0x3D] : nil
        )
    }

    /// A close frame body: the code in network order, then the reason.
    static func closeBody(_ code: UInt16, _ reason: [UInt8] = []) -> [UInt8] {
        [UInt8(code >> 8), UInt8(code & 0xFF)] + reason
    }

    /// RFC 6455 §5.3: "octet i of the transformed data is the XOR of octet i of the original data
    /// with octet at index i modulo 4 of the masking key".
    static func naiveMask(_ bytes: [UInt8], key: [UInt8], keyOffset: Int = 0) -> [UInt8] {
        bytes.enumerated().map { $0.element ^ key[($0.offset + keyOffset) % 4] }
    }
}

extension Role {
    /// The other end of the connection.
    var peer: Role { self == .client ? .server : .client }
}

extension ByteBuffer {
    /// The readable bytes as an array.
    var bytes: [UInt8] { Array(readableBytesView) }
}

/// A deterministic generator (SplitMix64) so that randomized tests are reproducible.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `count` random bytes, eight per draw.
    mutating func bytes(_ count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 8)
        while bytes.count < count {
            withUnsafeBytes(of: next()) { bytes.append(contentsOf: $0) }
        }
        bytes.removeLast(bytes.count - count)
        return bytes
    }
}
