import ServiceLifecycle

extension EngineIOServer: Service {
    /// Runs until its `ServiceGroup` shuts down gracefully (or is cancelled), then closes every
    /// session with ``shutdown()``.
    ///
    /// List it after the HTTP server (a framework application, a ``WebSocketServer``) in the
    /// group's services: a group shuts its services down in reverse order, so open WebSockets and
    /// held polling requests end first and the HTTP server can then stop gracefully.
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }
}
