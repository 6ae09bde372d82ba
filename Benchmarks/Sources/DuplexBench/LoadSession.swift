import NIOCore

/// The WebSocket connections of one measurement against one server (see ``BenchSession``).
final class LoadSession: BenchSession<LoadConnection> {
    /// Must be created on `loop`.
    init(loop: any EventLoop, target: BenchTarget, payloadSize: Int, recordsLatency: Bool) {
        let frames = ClientFrames(host: target.host, port: target.port, payloadSize: payloadSize, allocator: ByteBufferAllocator())
        super.init(loop: loop, target: target, recordsLatency: recordsLatency)
        self.makeClient = { [unowned self] allocator in LoadConnection(session: self, frames: frames, allocator: allocator) }
    }
}
