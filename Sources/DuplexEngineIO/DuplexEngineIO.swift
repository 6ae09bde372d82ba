// Engine.IO over NIO: see EngineIOServer and EngineIOClient.
