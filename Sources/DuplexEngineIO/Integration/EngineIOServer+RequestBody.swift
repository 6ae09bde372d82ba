import NIOCore

extension EngineIOServer {
    /// Reads the body of a request to the Engine.IO endpoint from a framework's stream of chunks,
    /// for ``handle(head:body:remoteAddress:)``.
    ///
    /// It keeps at most ``EngineIOServerConfiguration/maxHttpBufferSize`` + 1 bytes and stops
    /// reading there: enough for `handle` to refuse an oversized POST with 413 and close the
    /// session itself (protocol.md 4.1.4), as in every other deployment mode, without buffering
    /// an unbounded body.
    ///
    /// - Throws: whatever the framework's body stream throws.
    public func collectRequestBody<Chunks: AsyncSequence>(
        _ chunks: Chunks
    ) async throws -> ByteBuffer where Chunks.Element == ByteBuffer {
        let limit = configuration.maxHttpBufferSize + 1
        var body = ByteBuffer()
        for try await var chunk in chunks {
            let room = limit - body.readableBytes
            if chunk.readableBytes >= room {
                if let last = chunk.readSlice(length: room) { body.writeImmutableBuffer(last) }
                break
            }
            if body.readableBytes == 0 {
                body = chunk
            } else {
                body.writeBuffer(&chunk)
            }
        }
        return body
    }
}
