import DuplexEngineIO
import DuplexIntegrationTesting
import DuplexVapor
import Logging
import Vapor

/// A Vapor application on 127.0.0.1:0 serving ``EngineIOEcho`` at `path`, for the length of
/// `body`.
enum VaporTestServer {
    static let logger = Logger(label: "duplex.vapor.tests", factory: { _ in SwiftLogNoOpLogHandler() })

    static func run(
        path: String,
        configuration: EngineIOServerConfiguration = EngineIOServerConfiguration(),
        _ body: @Sendable (_ port: Int, _ engine: EngineIOServer) async throws -> Void
    ) async throws {
        let engine = try EngineIOServer(configuration: configuration, logger: logger)
        let app = try await Application.make(.testing)
        app.logger = logger
        app.engineIO(engine, at: path.pathComponents)
        var result: Result<Void, any Error> = .success(())
        do {
            try await app.server.start(address: .hostname("127.0.0.1", port: 0))
            guard let port = app.http.server.shared.localAddress?.port else {
                throw TestServerError("the Vapor server reports no local address")
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await EngineIOEcho.serve(engine) }
                do { try await body(port, engine) } catch { result = .failure(error) }
                await engine.shutdown()
                try await group.waitForAll()
            }
        } catch {
            result = .failure(error)
        }
        await engine.shutdown()
        await app.server.shutdown()
        try await app.asyncShutdown()
        try result.get()
    }
}

struct TestServerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
