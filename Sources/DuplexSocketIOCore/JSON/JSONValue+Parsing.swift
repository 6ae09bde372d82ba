import NIOCore

extension JSONValue {
    /// The default maximum nesting depth of arrays and objects accepted by the parser.
    public static let defaultMaxDepth = 32

    /// Parses strict RFC 8259 JSON text (surrounding whitespace allowed).
    ///
    /// The caller enforces the size limit (the Engine.IO layer bounds messages).
    ///
    /// - Throws: ``SocketIOError/Code/invalidJSON`` for malformed JSON,
    ///   ``SocketIOError/Code/jsonTooDeep`` beyond `maxDepth` nested arrays and objects.
    public init(parsing text: String, maxDepth: Int = JSONValue.defaultMaxDepth) throws(SocketIOError) {
        var text = text
        self = try text.withUTF8 { utf8 in
            Result { () throws(SocketIOError) in
                var parser = JSONParser(bytes: UnsafeRawBufferPointer(utf8), maxDepth: maxDepth)
                return try parser.parseDocument()
            }
        }.get()
    }

    /// Parses strict RFC 8259 JSON from the readable bytes of `buffer`, which must be UTF-8.
    ///
    /// - Throws: as ``init(parsing:maxDepth:)-(String,_)``; invalid UTF-8 inside strings is
    ///   ``SocketIOError/Code/invalidJSON``.
    public init(parsing buffer: ByteBuffer, maxDepth: Int = JSONValue.defaultMaxDepth) throws(SocketIOError) {
        self = try buffer.withUnsafeReadableBytes { bytes in
            Result { () throws(SocketIOError) in
                var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
                return try parser.parseDocument()
            }
        }.get()
    }

    /// Parses strict RFC 8259 JSON from UTF-8 bytes.
    public init(parsing bytes: [UInt8], maxDepth: Int = JSONValue.defaultMaxDepth) throws(SocketIOError) {
        self = try bytes.withUnsafeBytes { raw in
            Result { () throws(SocketIOError) in
                var parser = JSONParser(bytes: raw, maxDepth: maxDepth)
                return try parser.parseDocument()
            }
        }.get()
    }
}
