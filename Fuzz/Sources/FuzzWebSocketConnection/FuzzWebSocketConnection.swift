import DuplexWebSocketCore
import FuzzSupport
import NIOCore

// The WebSocket connection (RFC 6455 §5-§7, RFC 7692 §6) through `ConnectionStateMachine`:
// frames and fragmented messages, with or without permessage-deflate, in either role, fed in
// chunks, interleaved with application sends, closes and timers.
//
// Input: [flags] [split seed] [stream...]; flags: bit 0 role (1 = client), bit 1
// permessage-deflate, bit 2 server_no_context_takeover, bit 3 client_no_context_takeover,
// bit 4 UTF-8 validation off, bit 5 keepalive, bits 6-7 limits.
//
// Oracle: a failure is exactly one `failed` action whose code is `protocolViolation` (1002),
// `invalidUTF8` (1007) or `messageTooLarge` (1009) (or `keepAliveTimedOut` with keepalive on),
// and the close frame we send carries that code; delivered messages respect maxMessageSize and
// are valid UTF-8 when text; every byte we write parses as a well-formed frame stream for the
// peer; nothing is written after our close frame; `closed` comes once, after transportClosed.

private let limitChoices = [
    WebSocketLimits(maxFrameSize: 64, maxMessageSize: 128),
    WebSocketLimits(maxFrameSize: 1024, maxMessageSize: 4096),
    WebSocketLimits(maxFrameSize: 16_384, maxMessageSize: 16_384),
    WebSocketLimits(maxFrameSize: 65_536, maxMessageSize: 1024),
]

/// The executable's entry point under SwiftPM's debug-build name (see `runLibFuzzer`).
@_cdecl("FuzzWebSocketConnection_main")
public func fuzzWebSocketConnectionMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzWebSocketConnection)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebSocketConnection(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.byte()
    let role: Role = flags & 1 == 1 ? .client : .server
    let limits = limitChoices[Int(flags >> 6)]
    let validatesUTF8 = flags & 0x10 == 0
    let keepAlive: KeepAlive = flags & 0x20 != 0 ? .enabled(interval: .seconds(1), timeout: .seconds(1)) : .disabled
    var deflate: PerMessageDeflate? = nil
    if flags & 2 != 0 {
        let parameters = PerMessageDeflateParameters(
            serverNoContextTakeover: flags & 4 != 0,
            clientNoContextTakeover: flags & 8 != 0,
            serverMaxWindowBits: 15,
            clientMaxWindowBits: 15
        )
        do {
            deflate = try PerMessageDeflate(parameters: parameters, isClient: role == .client, configuration: .default)
        } catch {
            violated("PerMessageDeflate rejected valid parameters: \(error)")
        }
    }
    var splitter = ChunkSplitter(seed: input.byte(), maxChunk: 48)
    var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    var machine = ConnectionStateMachine(
        configuration: .init(role: role, limits: limits, keepAlive: keepAlive, validatesUTF8: validatesUTF8, deflate: deflate),
        now: now
    )
    var observer = Observer(role: role, limits: limits, validatesUTF8: validatesUTF8, deflate: deflate != nil, keepAlive: keepAlive.interval != nil)

    for chunk in splitter.split(input.rest()) {
        machine.bytesReceived(ByteBuffer(bytes: chunk), now: now)
        observer.drain(&machine)
        // Between chunks, sometimes let the application or the clock act.
        switch splitter.next() % 16 {
        case 0:
            now = now + .milliseconds(700)
            machine.timerFired(now: now)
        case 1:
            observer.applicationCall(try machine.sendRequested(.text("héllo, fuzz")))
        case 2:
            observer.applicationCall(try machine.sendFragmentRequested(kind: .binary, ByteBuffer(bytes: [1, 2, 3]), isFinal: splitter.next() % 2 == 0))
        case 3:
            observer.applicationCall(try machine.pingRequested(ByteBuffer(bytes: [9])))
        case 4 where splitter.next() % 4 == 0:
            observer.applicationCall(try machine.closeRequested(code: .goingAway, reason: "bye", now: now))
        default:
            break
        }
        observer.drain(&machine)
    }
    machine.transportClosed()
    observer.drain(&machine)
    observer.finish()
    machine.transportClosed()
    observer.drain(&machine)
    return 0
}

/// Checks the actions the machine emits, and parses what it writes as the peer would.
private struct Observer {
    let role: Role
    let limits: WebSocketLimits
    let validatesUTF8: Bool
    let deflate: Bool
    let keepAlive: Bool
    var written = ByteBuffer()
    var failure: WebSocketError?
    var closedCount = 0
    var wroteClose = false
    var peerParser: FrameParser

    init(role: Role, limits: WebSocketLimits, validatesUTF8: Bool, deflate: Bool, keepAlive: Bool) {
        self.role = role
        self.limits = limits
        self.validatesUTF8 = validatesUTF8
        self.deflate = deflate
        self.keepAlive = keepAlive
        // The peer has the other role; what we write has no size limit of its own.
        peerParser = FrameParser(role: role == .client ? .server : .client, maxFrameSize: .max, allowsRSV1: deflate)
    }

    /// An application call may only fail with the usage errors of a closing connection.
    func applicationCall(_ call: @autoclosure () throws(WebSocketError) -> Void) {
        do {
            try call()
        } catch {
            expect(error.code == .sendAfterClose, "application call failed with \(error.code): \(error.message)")
        }
    }

    mutating func drain(_ machine: inout ConnectionStateMachine) {
        while let action = machine.nextAction() {
            switch action {
            case .write(var bytes):
                expect(closedCount == 0, "write after closed")
                written.writeBuffer(&bytes)
                parseWritten()
            case .deliver(let message):
                expect(failure == nil, "deliver after failed")
                expect(message.data.readableBytes <= limits.maxMessageSize, "delivered \(message.data.readableBytes) bytes over maxMessageSize \(limits.maxMessageSize)")
                if message.kind == .text && validatesUTF8 {
                    expect(message.text != nil, "delivered invalid UTF-8 text: \(hex(message.bytes))")
                }
            case .pongReceived(let payload):
                expect(payload.readableBytes <= 125, "pong payload over 125 bytes")
            case .closeTransport, .scheduleTimer:
                break
            case .failed(let error):
                expect(failure == nil, "failed twice: \(error)")
                failure = error
                var allowed: [WebSocketError.Code] = [.protocolViolation, .invalidUTF8, .messageTooLarge]
                if keepAlive { allowed.append(.keepAliveTimedOut) }
                expect(allowed.contains(error.code), "failed with undocumented \(error.code): \(error.message)")
                if error.code != .keepAliveTimedOut {
                    expect([1002, 1007, 1009].contains(error.closeCode.rawValue), "close code \(error.closeCode) for \(error.code)")
                }
            case .closed(_, let error):
                closedCount += 1
                expect(closedCount == 1, "closed twice")
                if let failure { expect(error?.code == failure.code, "closed with \(String(describing: error)) after failing with \(failure)") }
            }
        }
    }

    /// Parses the frames written so far: they must form a valid stream for the peer.
    private mutating func parseWritten() {
        while true {
            let frame: Frame?
            do {
                frame = try peerParser.nextFrame(from: &written)
            } catch {
                violated("wrote a frame the peer rejects: \(error)")
            }
            guard let frame else { return }
            expect(!wroteClose, "wrote a \(frame.opcode) frame after the close frame")
            if frame.opcode == .close {
                wroteClose = true
                do {
                    let close = try ConnectionStateMachine.parseClosePayload(frame.payload)
                    if let failure, failure.code != .keepAliveTimedOut {
                        expect(close.code == failure.closeCode, "sent close \(close.code) after failing with \(failure.code)")
                    }
                } catch {
                    violated("wrote an invalid close frame: \(error)")
                }
            }
        }
    }

    func finish() {
        expect(closedCount == 1, "transportClosed produced \(closedCount) closed actions")
        expect(written.readableBytes == 0, "wrote a truncated frame: \(hex(written.readableBytesView))")
    }
}
