import DuplexWebSocket
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// Runs `server` and the services that sit on it until SIGINT/SIGTERM, then shuts them down
/// gracefully in reverse order (so `services` say goodbye while the HTTP server still runs);
/// calls `ready` once the server listens.
///
/// - Parameters:
///   - gracefulShutdownLimit: how long the graceful shutdown may take before the services are
///     cancelled (ServiceLifecycle's default when nil: no limit).
///   - cancellationLimit: how long cancelled services may take to return.
func runUntilSignal(
    _ server: WebSocketServer,
    services: [any Service] = [],
    logger: Logger,
    gracefulShutdownLimit: Duration? = nil,
    cancellationLimit: Duration? = nil,
    ready: @escaping @Sendable (SocketAddress) -> Void
) async throws {
    var configuration = ServiceGroupConfiguration(
        services: ([server] + services).map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger
    )
    configuration.maximumGracefulShutdownDuration = gracefulShutdownLimit
    configuration.maximumCancellationDuration = cancellationLimit
    let group = ServiceGroup(configuration: configuration)
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        tasks.addTask {
            let address = try await server.waitUntilListening()
            ready(address)
        }
        try await tasks.waitForAll()
    }
}
