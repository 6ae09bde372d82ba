import CDuplexZlib
import NIOCore

/// gzip and deflate content codings for polling responses (RFC 9110 §8.4.1: `gzip` is RFC 1952,
/// `deflate` is the zlib format of RFC 1950).
enum HTTPBodyCompressor {
    enum Encoding: String, Sendable {
        case gzip
        case deflate

        /// zlib `windowBits`: 15 for the zlib wrapper, +16 for the gzip wrapper.
        var windowBits: Int32 { self == .gzip ? 31 : 15 }
    }

    /// The coding to use for an `Accept-Encoding` value: gzip if acceptable, else deflate,
    /// else none (RFC 9110 §12.5.3; `q=0` means "not acceptable", `*` stands for any coding).
    static func negotiate(acceptEncoding: String?) -> Encoding? {
        guard let acceptEncoding else { return nil }
        var accepted: [String: Bool] = [:]
        for item in acceptEncoding.split(separator: ",") {
            let parts = item.split(separator: ";")
            guard let name = parts.first?.trimmingSpaces().lowercased(), !name.isEmpty else { continue }
            var isAcceptable = true
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1)
                if pair.count == 2, pair[0].trimmingSpaces().lowercased() == "q",
                    let quality = Double(pair[1].trimmingSpaces())
                {
                    isAcceptable = quality > 0
                }
            }
            accepted[name] = isAcceptable
        }
        for encoding in [Encoding.gzip, .deflate] {
            if let isAcceptable = accepted[encoding.rawValue] {
                if isAcceptable { return encoding }
            } else if accepted["*"] == true {
                return encoding
            }
        }
        return nil
    }

    /// Compresses `body` in one pass; nil if zlib fails (the caller then sends it uncompressed).
    static func compress(_ body: ByteBuffer, encoding: Encoding, level: Int) -> ByteBuffer? {
        // zlib keeps a pointer back to the stream in its state, so the stream must not move.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        let status = deflateInit2_(
            stream, Int32(clamping: level), Z_DEFLATED, encoding.windowBits, 8, Z_DEFAULT_STRATEGY,
            zlibVersion(), Int32(MemoryLayout<z_stream>.size)
        )
        guard status == Z_OK else { return nil }
        defer { deflateEnd(stream) }
        // zlib: deflateBound "returns an upper bound on the compressed size after deflation of
        // sourceLen bytes", so one Z_FINISH call always completes.
        let bound = Int(deflateBound(stream, uLong(body.readableBytes)))
        var output = ByteBuffer()
        output.reserveCapacity(bound)
        let finished = body.withUnsafeReadableBytes { input -> Bool in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(input.count)
            var result = Z_STREAM_ERROR
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { out in
                stream.pointee.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(out.count)
                result = deflate(stream, Z_FINISH)
                return out.count - Int(stream.pointee.avail_out)
            }
            return result == Z_STREAM_END
        }
        return finished ? output : nil
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}
