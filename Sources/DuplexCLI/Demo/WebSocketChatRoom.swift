import DuplexWebSocket
import DuplexWebSocketCore
import Foundation

/// The plain-WebSocket demo chat: members with names, messages broadcast to everyone, typing indicators.
actor WebSocketChatRoom {
    private struct Incoming: Decodable {
        var type: String
        var name: String?
        var text: String?
    }

    private struct Outgoing: Encodable {
        var type: String
        var name: String?
        var text: String?
        var names: [String]?
    }

    private var members: [ObjectIdentifier: (name: String, connection: WebSocketConnection)] = [:]

    /// Serves one browser tab until it leaves.
    nonisolated func serve(_ connection: WebSocketConnection) async throws {
        let id = connection.id
        defer { Task { await self.leave(id) } }
        for try await message in connection.messages {
            guard let text = message.text, let incoming = try? JSONDecoder().decode(Incoming.self, from: Data(text.utf8)) else {
                continue
            }
            await handle(incoming, from: id, connection: connection)
        }
    }

    private func handle(_ incoming: Incoming, from id: ObjectIdentifier, connection: WebSocketConnection) {
        switch incoming.type {
        case "join":
            let name = String((incoming.name ?? "guest").prefix(32))
            members[id] = (name.isEmpty ? "guest" : name, connection)
            broadcast(Outgoing(type: "joined", name: name))
            broadcastMembers()
        case "say":
            guard let member = members[id], let text = incoming.text, !text.isEmpty else { return }
            broadcast(Outgoing(type: "said", name: member.name, text: String(text.prefix(2000))))
        case "typing":
            guard let member = members[id] else { return }
            broadcast(Outgoing(type: "typing", name: member.name))
        default:
            break
        }
    }

    private func leave(_ id: ObjectIdentifier) {
        guard let member = members.removeValue(forKey: id) else { return }
        broadcast(Outgoing(type: "left", name: member.name))
        broadcastMembers()
    }

    private func broadcastMembers() {
        broadcast(Outgoing(type: "members", names: members.values.map(\.name).sorted()))
    }

    private func broadcast(_ outgoing: Outgoing) {
        guard let data = try? JSONEncoder().encode(outgoing) else { return }
        WebSocketConnection.broadcast(.text(String(decoding: data, as: UTF8.self)), to: members.values.map(\.connection))
    }
}
