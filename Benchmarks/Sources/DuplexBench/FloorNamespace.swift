import NIOCore
import NIOPosix
import NIOWebSocket

/// The bare Socket.IO server's namespace `/`: its members, kept per event loop, so that joining,
/// leaving and writing a broadcast happen on the member's own loop without a lock.
final class FloorNamespace: Sendable {
    private struct LoopMembers: Sendable {
        let loop: any EventLoop
        let handlers: NIOLoopBoundBox<[SocketIOFloorHandler]>
    }

    private let loops: [LoopMembers]

    init(group: MultiThreadedEventLoopGroup) {
        self.loops = group.makeIterator().map { loop in
            LoopMembers(loop: loop, handlers: .makeBoxSendingValue([], eventLoop: loop))
        }
    }

    /// Adds `handler`; on its channel's event loop.
    func join(_ handler: SocketIOFloorHandler, on loop: any EventLoop) {
        guard let members = self.members(of: loop) else { return }
        handler.memberIndex = members.handlers.value.count
        members.handlers.value.append(handler)
    }

    /// Removes `handler` if it joined; on its channel's event loop.
    func leave(_ handler: SocketIOFloorHandler, on loop: any EventLoop) {
        guard let index = handler.memberIndex, let members = self.members(of: loop) else { return }
        handler.memberIndex = nil
        let last = members.handlers.value.removeLast()
        if last !== handler {
            members.handlers.value[index] = last
            last.memberIndex = index
        }
    }

    /// Writes `frame` (one payload, shared) to every member: one task per other event loop, then
    /// the members of the current one.
    func broadcast(_ frame: WebSocketFrame, from current: any EventLoop) {
        for members in self.loops where members.loop !== current {
            members.loop.execute {
                for handler in members.handlers.value { handler.send(frame) }
            }
        }
        for handler in self.members(of: current)?.handlers.value ?? [] { handler.send(frame) }
    }

    private func members(of loop: any EventLoop) -> LoopMembers? {
        self.loops.first { $0.loop === loop }
    }
}
