import ArgumentParser
import NIOCore
import NIOPosix

/// The options of the bare SwiftNIO servers (`nio-echo`, `nio-sio`).
struct BareServerOptions: ParsableArguments {
    @Option(help: "Address to bind.")
    var host = "127.0.0.1"

    @Option(help: "Port to bind; 0 picks a free one.")
    var port = 0

    @Option(help: "Event loop threads (default: one per core, like MultiThreadedEventLoopGroup.singleton).")
    var threads: Int?

    func makeEventLoopGroup() -> MultiThreadedEventLoopGroup {
        MultiThreadedEventLoopGroup(numberOfThreads: self.threads ?? System.coreCount)
    }
}
