/// The handlers registered for one kind of callback: `on` adds a permanent one, `once` one that
/// is removed when it first runs, `off` removes by id.
struct ClientHandlerList<Argument: Sendable>: Sendable {
    typealias Handler = @Sendable (Argument) -> Void

    private struct Entry: Sendable {
        var id: SocketIOClientHandlerID
        var isOnce: Bool
        var handler: Handler
    }

    private var entries: [Entry] = []

    var isEmpty: Bool { entries.isEmpty }

    mutating func add(_ id: SocketIOClientHandlerID, isOnce: Bool, _ handler: @escaping Handler) {
        entries.append(Entry(id: id, isOnce: isOnce, handler: handler))
    }

    /// Removes the handler with `id`; whether it was here.
    @discardableResult
    mutating func remove(_ id: SocketIOClientHandlerID) -> Bool {
        guard let index = entries.firstIndex(where: { $0.id == id }) else { return false }
        entries.remove(at: index)
        return true
    }

    mutating func removeAll() {
        entries.removeAll()
    }

    /// The handlers to call for one occurrence, in registration order; `once` handlers are
    /// removed.
    mutating func take() -> [Handler] {
        let handlers = entries.map(\.handler)
        if entries.contains(where: \.isOnce) { entries.removeAll(where: \.isOnce) }
        return handlers
    }
}
