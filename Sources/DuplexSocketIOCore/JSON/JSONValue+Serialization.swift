import NIOCore

extension JSONValue {
    /// Compact JSON text, byte for byte what JavaScript's `JSON.stringify` produces for the same
    /// value. A ``binary(_:)`` is written as Node's `Buffer.toJSON` does:
    /// `{"type":"Buffer","data":[1,2,3]}`.
    public var jsonString: String { JSONWriter.string(self) }

    /// The compact JSON text (see ``jsonString``) as UTF-8 bytes.
    public var jsonBytes: [UInt8] { JSONWriter.bytes(self) }

    /// Appends the compact JSON text (see ``jsonString``) to `buffer`.
    public func write(to buffer: inout ByteBuffer) {
        JSONWriter.write(self, to: &buffer)
    }
}
