import DuplexEngineIO
import DuplexSocketIO
import DuplexSocketIOCore
import DuplexWebSocket
import Foundation
import Logging
import NIOCore
import Testing

/// Connection state recovery across a graceful server restart (protocol.md 4.2.8): server A
/// shuts down, its recovery snapshot starts server B on the same port, and our client,
/// reconnecting on its own, is recovered by B.
@Suite("Socket.IO server: connection state recovery across a restart", .timeLimit(.minutes(1)))
struct SocketIOServerRestartRecoveryTests {
    private static let maxDisconnectionDuration = Duration.seconds(60)

    /// What the client saw across the restart.
    private struct Outcome {
        var snapshot: SocketIORecoverySnapshot
        var firstID: String
        var reconnectedID: String?
        var recovered: Bool
        var numbers: [Int64]
        var disconnectReason: SocketIOClientDisconnectReason
        var roomsOnB: Set<String>
        var recoveredOnB: Bool
    }

    @Test("4.2.8 restart: the client reconnects to the restored server recovered, and misses nothing sent while it was away")
    func recoveredAcrossRestart() async throws {
        let outcome = try await restart(ageingSnapshotBy: .zero)
        #expect(outcome.disconnectReason == .transportClose)
        #expect(outcome.snapshot.sessionCount == 1)
        #expect(outcome.recovered)
        #expect(outcome.recoveredOnB)
        #expect(outcome.reconnectedID == outcome.firstID)
        #expect(outcome.roomsOnB == [outcome.firstID, "room"])
        // 1...3 from A, 4...6 from B while the client was away, 7 from B to the room afterwards.
        #expect(outcome.numbers == Array(1...7))
    }

    @Test("4.2.8 restart: a snapshot older than maxDisconnectionDuration restores nothing")
    func expiredSnapshotRestoresNothing() async throws {
        let outcome = try await restart(ageingSnapshotBy: Self.maxDisconnectionDuration + .seconds(1))
        #expect(outcome.snapshot.sessionCount == 1)
        #expect(!outcome.recovered)
        #expect(!outcome.recoveredOnB)
        #expect(outcome.reconnectedID != outcome.firstID)
        // Not in the room any more: only A's numbers.
        #expect(outcome.numbers == Array(1...3))
    }

    /// Runs the scenario; `ageing` moves every time of the snapshot back, as if the server had
    /// been down that long.
    private func restart(ageingSnapshotBy ageing: Duration) async throws -> Outcome {
        let serverA = try await RunningServer.start(port: 0, restoring: nil)
        var configuration = SocketIOClientConfiguration(
            // Long enough for server B to start and broadcast before the client is back.
            reconnectionDelay: .seconds(1),
            reconnectionDelayMax: .seconds(1),
            randomizationFactor: 0
        )
        configuration.engineIO.transports = [.websocket]
        let manager = try SocketIOClientManager(url: "http://127.0.0.1:\(serverA.port)", configuration: configuration)
        let socket = try manager.socket()
        let numbers = FakeQueue<Int64>()
        socket.on("number") { event in
            if let number = event.arguments.first?.intValue { numbers.push(number) }
        }
        let done = FakeQueue<Void>()
        socket.on("done") { _ in done.push(()) }
        let connects = FakeQueue<(id: String?, recovered: Bool)>()
        socket.onConnect { connects.push((socket.id, socket.recovered)) }
        let disconnects = FakeQueue<SocketIOClientDisconnectReason>()
        socket.onDisconnect { disconnects.push($0) }

        try await socket.connect()
        _ = try #require(try await connects.next(within: .seconds(5)))
        let firstID = try #require(socket.id)
        _ = try await socket.emitWithAck("join", ["room"], timeout: .seconds(5))
        for number in 1...3 { serverA.io.to("room").emit("number", .int(Int64(number))) }
        var received: [Int64] = []
        for _ in 1...3 { received.append(try await numbers.expectNext()) }

        var snapshot = try await serverA.stop()
        let disconnectReason = try await disconnects.expectNext()
        // Through the storage format, as a process restart would.
        snapshot = try JSONDecoder().decode(SocketIORecoverySnapshot.self, from: JSONEncoder().encode(snapshot))
        let saved = snapshot
        if ageing > .zero {
            let milliseconds = ageing.components.seconds * 1000
            snapshot.takenAt -= milliseconds
            for (name, var namespace) in snapshot.namespaces {
                for index in namespace.sessions.indices { namespace.sessions[index].disconnectedAt -= milliseconds }
                for index in namespace.packets.indices { namespace.packets[index].time -= milliseconds }
                snapshot.namespaces[name] = namespace
            }
        }

        let serverB = try await RunningServer.start(port: serverA.port, restoring: snapshot)
        // Broadcast before the client reconnects: it must get these from the packet log.
        #expect(!socket.isConnected)
        for number in 4...6 { serverB.io.to("room").emit("number", .int(Int64(number))) }
        let reconnection = try #require(try await connects.next(within: .seconds(10)))
        let serverSocket = reconnection.id.flatMap { serverB.io.sockets.socket(id: $0) }
        let roomsOnB = serverSocket?.rooms ?? []
        serverB.io.to("room").emit("number", 7)
        serverB.io.sockets.emit("done")
        if reconnection.recovered {
            for _ in 4...7 { received.append(try await numbers.expectNext()) }
        }
        // Nothing else arrives: `done` was broadcast after every number, and handlers run in order.
        _ = try await done.expectNext()
        for _ in 0..<numbers.count { received.append(try await numbers.expectNext()) }

        await manager.close()
        _ = try await serverB.stop()
        return Outcome(
            snapshot: saved,
            firstID: firstID,
            reconnectedID: reconnection.id,
            recovered: reconnection.recovered,
            numbers: received,
            disconnectReason: disconnectReason,
            roomsOnB: roomsOnB,
            recoveredOnB: serverSocket?.recovered ?? false
        )
    }
}

/// A Socket.IO server with recovery on 127.0.0.1, running until ``stop()``.
private final class RunningServer: Sendable {
    let io: SocketIOServer
    let http: WebSocketServer
    let port: Int
    private let task: Task<Void, any Error>

    private init(io: SocketIOServer, http: WebSocketServer, port: Int, task: Task<Void, any Error>) {
        self.io = io
        self.http = http
        self.port = port
        self.task = task
    }

    /// Starts a server on `port` (0: any) whose sockets join the room their `join` event names.
    static func start(port: Int, restoring: SocketIORecoverySnapshot?) async throws -> RunningServer {
        let logger = Logger(label: "duplex.sio.tests") { _ in SwiftLogNoOpLogHandler() }
        let io = try SocketIOServer(
            configuration: SocketIOServerConfiguration(
                connectionStateRecovery: SocketIOConnectionStateRecovery(maxDisconnectionDuration: .seconds(60), restoring: restoring)
            ),
            logger: logger
        )
        io.onConnection { socket in
            socket.on("join") { event in
                guard let room = event.arguments.first?.stringValue else { return }
                socket.join(room)
                event.ack(.string(room))
            }
        }
        var router = WebSocketRouter()
        io.mount(on: &router)
        let http = WebSocketServer(
            configuration: WebSocketServerConfiguration(
                host: "127.0.0.1",
                port: port,
                compression: nil,
                shutdownGracePeriod: .milliseconds(200),
                backlog: 64
            ),
            router: router,
            logger: logger
        )
        let task = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await http.run() }
                group.addTask { await io.run() }
                try await group.waitForAll()
            }
        }
        do {
            let address = try await http.waitUntilListening()
            return RunningServer(io: io, http: http, port: address.port ?? port, task: task)
        } catch {
            task.cancel()
            throw error
        }
    }

    /// Shuts the Socket.IO server down, takes its recovery snapshot, then stops the HTTP
    /// server and waits until the port is released.
    func stop() async throws -> SocketIORecoverySnapshot {
        await io.shutdown()
        let snapshot = await io.recoverySnapshot(timeout: .seconds(5))
        http.shutdown()
        try await task.value
        return snapshot
    }
}
