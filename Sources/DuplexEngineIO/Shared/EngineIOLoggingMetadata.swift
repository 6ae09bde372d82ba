/// The logging metadata keys of the Engine.IO layer (STYLE.md 2.8), defined once.
package enum EngineIOLoggingMetadata {
    /// The session id.
    package static let sid = "eio.sid"
    /// The transport carrying the session (`polling`, `websocket`).
    package static let transport = "eio.transport"
}
