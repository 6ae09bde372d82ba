/// Work decided while the client's state is locked and done once it is unlocked: calling
/// application handlers and resuming waiting tasks, in the order they were decided. Handlers
/// never run under the lock, so they may call back into the client.
struct ClientEffects: Sendable {
    private var actions: [@Sendable () -> Void] = []

    mutating func append(_ action: @escaping @Sendable () -> Void) {
        actions.append(action)
    }

    /// Schedules a call of each handler with `argument`.
    mutating func call<Argument: Sendable>(_ handlers: [@Sendable (Argument) -> Void], with argument: Argument) {
        for handler in handlers { actions.append { handler(argument) } }
    }

    func run() {
        for action in actions { action() }
    }
}
