import NIOCore

extension JSONValue {
    /// Compact JSON text, byte for byte what JavaScript's `JSON.stringify` produces for the same
    /// value. A ``binary(_:)`` is written as Node's `Buffer.toJSON` does:
    /// `{"type":"Buffer","data":[1,2,3]}`.
    public var jsonString: String {
        var writer = JSONWriter()
        writer.write(self)
        return String(decoding: writer.output, as: UTF8.self)
    }

    /// The compact JSON text (see ``jsonString``) as UTF-8 bytes.
    public var jsonBytes: [UInt8] {
        var writer = JSONWriter()
        writer.write(self)
        return writer.output
    }

    /// Appends the compact JSON text (see ``jsonString``) to `buffer`.
    public func write(to buffer: inout ByteBuffer) {
        buffer.writeBytes(jsonBytes)
    }
}
