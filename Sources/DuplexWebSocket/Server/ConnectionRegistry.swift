import DuplexWebSocketCore
import NIOCore
import Synchronization

/// The server's open channels (HTTP phase included) and upgraded connections, for graceful
/// shutdown and broadcasting.
final class ConnectionRegistry: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var connections: [ObjectIdentifier: WebSocketConnection] = [:]
        /// Upgraded connections served by an event-loop message handler (no WebSocketConnection).
        var upgradedOnLoop: Set<ObjectIdentifier> = []
    }
    private let state = Mutex(State())

    var count: Int { state.withLock { $0.channels.count } }
    var connections: [WebSocketConnection] { state.withLock { Array($0.connections.values) } }

    func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLock { $0.channels[id] = channel }
        channel.closeFuture.whenComplete { _ in
            self.state.withLock {
                $0.channels.removeValue(forKey: id)
                $0.upgradedOnLoop.remove(id)
            }
        }
    }

    func markUpgraded(_ channel: any Channel) {
        _ = state.withLock { $0.upgradedOnLoop.insert(ObjectIdentifier(channel)) }
    }

    func register(_ connection: WebSocketConnection) {
        state.withLock { $0.connections[ObjectIdentifier(connection.channel)] = connection }
    }

    func unregister(_ connection: WebSocketConnection) {
        _ = state.withLock { $0.connections.removeValue(forKey: ObjectIdentifier(connection.channel)) }
    }

    /// Starts the closing handshake on every WebSocket and closes HTTP-phase channels.
    func closeAll(code: CloseCode, reason: String) {
        let (channels, upgraded) = state.withLock { ($0.channels, Set($0.connections.keys).union($0.upgradedOnLoop)) }
        for (id, channel) in channels {
            if upgraded.contains(id) {
                channel.writeAndFlush(WebSocketOutbound.close(code, reason: reason), promise: nil)
            } else {
                channel.close(promise: nil)
            }
        }
    }

    /// Closes every channel now.
    func dropAll() {
        for channel in state.withLock({ Array($0.channels.values) }) { channel.close(promise: nil) }
    }

    /// Completes when every channel open now has closed.
    func allClosedFuture(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        let futures = state.withLock { $0.channels.values.map(\.closeFuture) }
        return EventLoopFuture.andAllComplete(futures, on: eventLoop)
    }
}
