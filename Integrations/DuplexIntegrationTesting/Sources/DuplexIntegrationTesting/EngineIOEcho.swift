import DuplexEngineIO

/// The application every deployment check runs against: each session's messages are sent back
/// as they came (text as text, binary as binary), as `duplex eio-echo` does.
public enum EngineIOEcho {
    /// Serves every session of `engine` until its ``EngineIOServer/sessions`` end.
    public static func serve(_ engine: EngineIOServer) async {
        await withDiscardingTaskGroup { group in
            for await socket in engine.sessions {
                group.addTask {
                    for await message in socket.messages {
                        do { try await socket.send(message) } catch { return }
                    }
                }
            }
        }
    }
}
