import DuplexEngineIOCore
import NIOCore
import Testing

/// Test time: `at(25)` is 25 s after the session opened.
let sessionStart = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
func at(_ seconds: Double) -> NIODeadline { sessionStart + .milliseconds(Int64(seconds * 1000)) }

let testSessionID = EngineIOSessionID(rawValue: "AAAAAAAAAAAAAAAAAAAA")!

/// A v4 `answerPoll` with a text body.
func poll(_ text: String) -> EngineIOServerSessionAction {
    .answerPoll(EngineIOPollingBody(bytes: ByteBuffer(string: text), contentType: .text))
}

/// Separator-joined v4 payload.
func payload(_ packets: String...) -> String { packets.joined(separator: "\u{1E}") }

func ws(_ text: String) -> EngineIOServerSessionAction { .writeWebSocket(.text(text)) }

func openJSON(upgrades: String = #"["websocket"]"#, maxPayload: String? = ",\"maxPayload\":1000000") -> String {
    #"0{"sid":"AAAAAAAAAAAAAAAAAAAA","upgrades":"# + upgrades + #","pingInterval":25000,"pingTimeout":20000"#
        + (maxPayload ?? "") + "}"
}

extension EngineIOServerSession {
    /// A v4 polling session whose handshake GET has been answered.
    static func openedOverPolling(
        format: EngineIOPollingFormat = .v4,
        configuration: Configuration = Configuration()
    ) -> EngineIOServerSession {
        var session = EngineIOServerSession(
            id: testSessionID,
            transport: .polling,
            pollingFormat: format,
            configuration: configuration,
            now: at(0)
        )
        try? session.pollRequested(now: at(0))
        _ = session.drain()
        return session
    }

    /// A session opened over WebSocket whose `open` frame has been written.
    static func openedOverWebSocket(format: EngineIOPollingFormat = .v4) -> EngineIOServerSession {
        var session = EngineIOServerSession(id: testSessionID, transport: .websocket, pollingFormat: format, now: at(0))
        _ = session.drain()
        return session
    }

    /// A v4 session upgraded to WebSocket (no GET pending at the end).
    static func upgraded() -> EngineIOServerSession {
        var session = openedOverPolling()
        try? session.upgradeRequested(now: at(1))
        session.webSocketMessageReceived(.text("2probe"), now: at(1))
        session.webSocketMessageReceived(.text("5"), now: at(1))
        _ = session.drain()
        return session
    }

    mutating func drain() -> [EngineIOServerSessionAction] {
        var result: [EngineIOServerSessionAction] = []
        while let action = nextAction() { result.append(action) }
        return result
    }

    /// Issues a GET and returns the actions (the answer, if immediate).
    mutating func get(at time: Double) throws -> [EngineIOServerSessionAction] {
        try pollRequested(now: at(time))
        return drain()
    }

    /// POSTs a v4 text body and returns the actions.
    mutating func post(_ text: String, at time: Double, contentType: String? = nil) throws
        -> [EngineIOServerSessionAction]
    {
        try postReceived(ByteBuffer(string: text), contentType: contentType, now: at(time))
        return drain()
    }

    mutating func receive(_ text: String, at time: Double) -> [EngineIOServerSessionAction] {
        webSocketMessageReceived(.text(text), now: at(time))
        return drain()
    }
}
