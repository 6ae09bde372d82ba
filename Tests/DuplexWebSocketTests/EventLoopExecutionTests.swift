import DuplexWebSocket
import DuplexWebSocketCore
import NIOCore
import NIOPosix
import Testing

/// DESIGN.md "no per-connection tasks you do not need": a server connection's task runs on its
/// channel's event loop (EventLoopTaskExecutor), so a message read by the channel resumes the
/// handler without waking another thread.
@Suite("Server connections run on their channel's event loop", .timeLimit(.minutes(1)))
struct EventLoopExecutionTests {
    @Test("a route handler and the code after each await run on the connection's event loop")
    func handlerRunsOnChannelLoop() async throws {
        var router = WebSocketRouter()
        router.webSocket("/where") { connection in
            var onLoop = connection.eventLoop.inEventLoop
            for try await message in connection.messages {
                onLoop = onLoop && connection.eventLoop.inEventLoop
                try await connection.send(.text("\(onLoop)"))
                onLoop = onLoop && connection.eventLoop.inEventLoop
                _ = message
            }
        }
        let routes = router
        try await withTimeout {
            try await withServer(router: routes) { server in
                try await WebSocketConnection.connect(to: server.url("/where"), configuration: .test(), logger: .test) { connection in
                    var replies = connection.messages.makeAsyncIterator()
                    for index in 0..<5 {
                        try await connection.send(.text("\(index)"))
                        #expect(try await replies.next() == .text("true"))
                    }
                }
            }
        }
    }

    @Test("EventLoopTaskExecutor runs a task and its children on the loop")
    func executorRunsChildrenOnLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loop = group.next()
        let executor = EventLoopTaskExecutor(loop)
        let results = await withTaskGroup(of: [Bool].self) { tasks in
            tasks.addTask(executorPreference: executor) {
                var seen = [loop.inEventLoop]
                try? await Task.sleep(for: .milliseconds(1))
                seen.append(loop.inEventLoop)
                seen.append(
                    await withTaskGroup(of: Bool.self) { children in
                        children.addTask { loop.inEventLoop }
                        return await children.next() ?? false
                    })
                return seen
            }
            return await tasks.next() ?? []
        }
        #expect(results == [true, true, true])
        try await group.shutdownGracefully()
    }
}
