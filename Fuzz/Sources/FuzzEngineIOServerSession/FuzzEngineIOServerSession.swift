import DuplexEngineIOCore
import FuzzSupport
import NIOCore

// The server session state machine (protocol.md 4.1.3-4.1.9) driven by a fuzzed sequence of
// requests, WebSocket events, timer ticks and application calls, with small limits.
//
// Input: [flags] then operations [op] [argument bytes...]; flags: bit 0 opened over WebSocket,
// bits 1-2 the polling format.
//
// Oracle: each input throws only its documented codes; actions follow the adapter contract:
// a poll is answered only while one is pending, with at most maxPacketsPerResponse packets
// that decode in the session's format; WebSocket writes only while a WebSocket is attached;
// delivered data is within maxPayload; upgrade failures carry `upgradeFailed` or
// `upgradeTimedOut`; nothing follows `closeSession`.

private let formats: [EngineIOPollingFormat] = [.v4, .v3Binary, .v3Base64, .v3JSONP(index: 3)]
private let configuration = EngineIOServerSession.Configuration(
    pingInterval: .seconds(2), pingTimeout: .seconds(1), upgradeTimeout: .seconds(1), closeTimeout: .seconds(3),
    maxPayload: 64, maxPacketsPerPayload: 3, maxPacketsPerResponse: 3
)

/// The executable's entry point under SwiftPM's debug-build name (see `runLibFuzzer`).
@_cdecl("FuzzEngineIOServerSession_main")
public func fuzzEngineIOServerSessionMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzEngineIOServerSession)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEngineIOServerSession(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.byte()
    let overWebSocket = flags & 1 != 0
    let format = formats[Int(flags >> 1) & 3]
    var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    let id = EngineIOSessionID(rawValue: "FuzzSession") ?? .random()
    var session = EngineIOServerSession(
        id: id,
        transport: overWebSocket ? .websocket : .polling,
        pollingFormat: format,
        configuration: configuration,
        now: now
    )
    var adapter = Adapter(format: format, webSocketAttached: overWebSocket)
    adapter.drain(&session)

    while input.remainingCount > 0 {
        let operation = input.byte() % 13
        switch operation {
        case 0:
            adapter.call([.sessionClosed, .badRequest]) { () throws(EngineIOError) in try session.pollRequested(now: now) }
            if !session.isClosed, adapter.lastCallSucceeded { adapter.pollPending = true }
        case 1:
            session.pollAborted()
            adapter.pollPending = false
        case 2:
            adapter.call([.sessionClosed, .badRequest]) { () throws(EngineIOError) in try session.postStarted() }
        case 3:
            session.postAborted()
        case 4:
            let body = ByteBuffer(bytes: input.bytes(input.int(in: 0...80)))
            let contentType = input.bool() ? "application/octet-stream" : nil
            adapter.call([.sessionClosed, .badRequest, .payloadTooLarge, .invalidPayload, .invalidPacket]) {
                () throws(EngineIOError) in try session.postReceived(body, contentType: contentType, now: now)
            }
        case 5:
            adapter.call([.sessionClosed, .badRequest]) { () throws(EngineIOError) in try session.upgradeRequested(now: now) }
            if adapter.lastCallSucceeded { adapter.webSocketAttached = true }
        case 6, 7:
            let bytes = input.bytes(input.int(in: 0...80))
            guard adapter.webSocketAttached else { break }
            let frame: EngineIOWebSocketFrame =
                operation == 6 ? .text(String(decoding: bytes, as: UTF8.self)) : .binary(ByteBuffer(bytes: bytes))
            session.webSocketMessageReceived(frame, now: now)
        case 8, 9:
            guard adapter.webSocketAttached else { break }
            adapter.webSocketAttached = false
            if operation == 8 { session.webSocketClosed() } else { session.webSocketFailed() }
        case 10:
            now = now + .milliseconds(Int64(input.int(in: 0...4000)))
            session.timerFired(now: now)
        case 11:
            // A text containing U+001E is refused with invalidPacket while on v4 polling (the
            // payload separator; Fuzz/Regressions/EngineIOServerSession/u001e-*).
            let text = String(decoding: input.bytes(input.int(in: 0...16)), as: UTF8.self)
            adapter.call([.sessionClosed, .invalidPacket]) { () throws(EngineIOError) in try session.sendRequested(.text(text)) }
        default:
            session.closeRequested(now: now)
        }
        adapter.drain(&session)
    }
    return 0
}

/// Plays the adapter: executes actions and checks them against the contract.
private struct Adapter {
    let format: EngineIOPollingFormat
    var webSocketAttached: Bool
    var pollPending = false
    var sessionClosed = false
    var lastCallSucceeded = false

    init(format: EngineIOPollingFormat, webSocketAttached: Bool) {
        self.format = format
        self.webSocketAttached = webSocketAttached
    }

    /// Runs an input that answers an HTTP request; it may only throw the listed codes.
    mutating func call(_ allowed: [EngineIOError.Code], _ body: () throws(EngineIOError) -> Void) {
        do {
            try body()
            lastCallSucceeded = true
        } catch {
            lastCallSucceeded = false
            expect(allowed.contains(error.code), "threw undocumented \(error.code): \(error.message)")
            expect((400...499).contains(error.httpStatus), "\(error.code) answered with \(error.httpStatus)")
        }
    }

    mutating func drain(_ session: inout EngineIOServerSession) {
        while let action = session.nextAction() {
            expect(!sessionClosed, "\(action) after closeSession")
            switch action {
            case .answerPoll(let body):
                expect(pollPending, "answerPoll without a pending GET")
                pollPending = false
                checkPollBody(body)
            case .writeWebSocket:
                expect(webSocketAttached, "writeWebSocket without a WebSocket")
            case .closeWebSocket:
                expect(webSocketAttached, "closeWebSocket without a WebSocket")
                webSocketAttached = false
            case .deliver(let data):
                expect(data.byteCount <= configuration.maxPayload, "delivered \(data.byteCount) bytes")
            case .upgradeFailed(let error):
                expect(error.code == .upgradeFailed || error.code == .upgradeTimedOut, "upgradeFailed(\(error.code))")
            case .closeSession:
                sessionClosed = true
            case .scheduleTimer, .cancelTimer, .upgradeCompleted:
                break
            }
        }
        if sessionClosed { expect(session.isClosed, "closeSession but the session is not closed") }
    }

    private func checkPollBody(_ body: EngineIOPollingBody) {
        guard format.jsonpIndex == nil else { return }  // a JSONP response is a script, not a request body
        do {
            let packets = try format.decodePayload(body.bytes, contentType: body.contentType.rawValue, maxPackets: .max)
            expect(packets.count <= configuration.maxPacketsPerResponse, "\(packets.count) packets in one response")
            expect(!packets.isEmpty, "empty poll response")
        } catch {
            violated("poll response \(hex(body.bytes.readableBytesView)) does not decode: \(error)")
        }
    }
}
