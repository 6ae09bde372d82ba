import Foundation
import DuplexSocketIO

/// The Socket.IO chat of `duplex serve`: people join a room under a name, talk to the room, see
/// who is in it and who is typing. Each socket's `data` holds `{"name", "room"}`.
enum SocketIOChat {
    static let maxNameLength = 32
    static let maxTextLength = 2_000

    /// Registers the chat's events on the default namespace of `io`.
    static func install(on io: SocketIOServer) {
        io.sockets.onConnection { socket in
            socket.on("join") { event in
                guard let request = event.arguments.first,
                    let room = cleaned(request["room"]?.stringValue, limit: maxNameLength)
                else {
                    event.ack(["error": "a join needs a room"])
                    return
                }
                let name = cleaned(request["name"]?.stringValue, limit: maxNameLength) ?? "guest"
                if let previous = membership(of: socket) { await leave(socket, previous) }
                socket.join(room)
                socket.data = ["name": .string(name), "room": .string(room)]
                event.ack(["room": .string(room)])
                socket.namespace.to(room).emit("joined", ["name": .string(name), "room": .string(room)])
                await announceMembers(of: room, in: socket.namespace)
            }
            socket.on("chat") { event in
                guard let member = membership(of: event.socket),
                    let text = cleaned(event.arguments.first?.stringValue, limit: maxTextLength)
                else { return }
                event.socket.namespace.to(member.room).emit("chat", ["name": .string(member.name), "text": .string(text)])
            }
            socket.on("typing") { event in
                guard let member = membership(of: event.socket) else { return }
                let typing = event.arguments.first?.boolValue ?? false
                event.socket.to(member.room).emit("typing", ["name": .string(member.name), "typing": .bool(typing)])
            }
            socket.onDisconnect { _ in
                if let member = membership(of: socket) { await leave(socket, member) }
            }
        }
    }

    private struct Membership {
        var name: String
        var room: String
    }

    private static func membership(of socket: SocketIOSocket) -> Membership? {
        guard let name = socket.data["name"]?.stringValue, let room = socket.data["room"]?.stringValue else { return nil }
        return Membership(name: name, room: room)
    }

    private static func leave(_ socket: SocketIOSocket, _ member: Membership) async {
        socket.leave(member.room)
        socket.namespace.to(member.room).emit("left", ["name": .string(member.name), "room": .string(member.room)])
        socket.namespace.to(member.room).emit("typing", ["name": .string(member.name), "typing": false])
        await announceMembers(of: member.room, in: socket.namespace)
    }

    /// Sends the room's member names (sorted) to everyone in it.
    private static func announceMembers(of room: String, in namespace: SocketIONamespace) async {
        guard let sockets = try? await namespace.in(room).fetchSockets() else { return }
        let names = sockets.compactMap { $0.data["name"]?.stringValue }.sorted()
        namespace.to(room).emit("members", .array(names.map(JSONValue.string)))
    }

    /// Trimmed, control characters removed, at most `limit` characters; nil if nothing is left.
    private static func cleaned(_ text: String?, limit: Int) -> String? {
        guard let text else { return nil }
        let visible = String(String.UnicodeScalarView(text.unicodeScalars.filter { !$0.properties.isNoncharacterCodePoint && $0.value >= 0x20 && $0.value != 0x7F }))
        let trimmed = visible.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : String(trimmed.prefix(limit))
    }
}
