import NIOCore

@testable import DuplexWebSocketCore

/// A deadline `seconds` after the (arbitrary) origin of the tests' clock.
func at(_ seconds: Double) -> NIODeadline {
    .uptimeNanoseconds(UInt64(seconds * 1_000_000_000))
}

/// One frame decoded from the bytes a machine wrote, by a decoder independent of `FrameParser`.
struct WrittenFrame: Equatable, CustomStringConvertible {
    var fin = true
    var rsv1 = false
    var opcode: Opcode
    var payload: [UInt8]

    var description: String { "\(opcode)\(fin ? "" : " [continued]")\(rsv1 ? " [rsv1]" : "") \(payload)" }

    static func close(_ code: UInt16, _ reason: String = "") -> WrittenFrame {
        WrittenFrame(opcode: .close, payload: WireFrame.closeBody(code, Array(reason.utf8)))
    }
}

/// What a machine asked its I/O adapter to do, with the written bytes decoded into frames, so
/// tests can compare whole sequences for both roles (client frames carry random masking keys).
enum Event: Equatable, CustomStringConvertible {
    case frame(WrittenFrame)
    case deliver(WebSocketMessage)
    case pongReceived([UInt8])
    case closeTransport
    case scheduleTimer(NIODeadline)
    case failed(WebSocketError.Code)
    case closed(CloseInfo, error: WebSocketError.Code?)
    /// The written bytes are not valid frames for this writer (wrong masking, truncated, ...).
    case malformedWrite(String)

    static func write(_ opcode: Opcode, _ payload: [UInt8], fin: Bool = true) -> Event {
        .frame(WrittenFrame(fin: fin, opcode: opcode, payload: payload))
    }

    static func writeClose(_ code: UInt16, _ reason: String = "") -> Event {
        .frame(.close(code, reason))
    }

    static func deliverText(_ text: String) -> Event { .deliver(.text(text)) }
    static func deliverBinary(_ bytes: [UInt8]) -> Event { .deliver(.binary(bytes)) }

    var description: String {
        switch self {
        case .frame(let frame): return "write \(frame)"
        case .deliver(let message): return "deliver \(message.kind) \(message.bytes)"
        case .pongReceived(let payload): return "pongReceived \(payload)"
        case .closeTransport: return "closeTransport"
        case .scheduleTimer(let deadline): return "scheduleTimer \(deadline.uptimeNanoseconds)"
        case .failed(let code): return "failed \(code)"
        case .closed(let info, let code): return "closed \(info) error: \(code.map { "\($0)" } ?? "nil")"
        case .malformedWrite(let why): return "malformed write: \(why)"
        }
    }

    /// Decodes the frames in `bytes`, checking the masking rule of RFC 6455 §5.3 for `writer`.
    static func frames(in bytes: [UInt8], writtenBy writer: Role) -> [Event] {
        var events: [Event] = []
        var index = 0
        func take(_ count: Int) -> ArraySlice<UInt8>? {
            guard count >= 0, index + count <= bytes.count else { return nil }
            defer { index += count }
            return bytes[index..<index + count]
        }
        while index < bytes.count {
            guard let head = take(2) else { return events + [.malformedWrite("truncated header")] }
            let first = head[head.startIndex]
            let second = head[head.startIndex + 1]
            let masked = second & 0x80 != 0
            if masked != (writer == .client) {
                return events + [.malformedWrite(masked ? "a server masked its frame" : "a client did not mask its frame")]
            }
            if first & 0x30 != 0 { return events + [.malformedWrite("RSV2/RSV3 set")] }
            var length = Int(second & 0x7F)
            if length == 126 {
                guard let ext = take(2) else { return events + [.malformedWrite("truncated length")] }
                length = ext.reduce(0) { $0 << 8 | Int($1) }
                if length < 126 { return events + [.malformedWrite("non-minimal 16-bit length")] }
            } else if length == 127 {
                guard let ext = take(8) else { return events + [.malformedWrite("truncated length")] }
                length = ext.reduce(0) { $0 << 8 | Int($1) }
                if length <= 0xFFFF { return events + [.malformedWrite("non-minimal 64-bit length")] }
            }
            var key: [UInt8]? = nil
            if masked {
                guard let k = take(4) else { return events + [.malformedWrite("truncated mask key")] }
                key = Array(k)
            }
            guard let body = take(length) else { return events + [.malformedWrite("truncated payload")] }
            let payload = key.map { WireFrame.naiveMask(Array(body), key: $0) } ?? Array(body)
            events.append(
                .frame(
                    WrittenFrame(
                        fin: first & 0x80 != 0,
                        rsv1: first & 0x40 != 0,
                        opcode: Opcode(rawValue: first & 0x0F),
                        payload: payload
                    )
                )
            )
        }
        return events
    }

    /// Turns actions into events; consecutive writes are concatenated before decoding, since a
    /// frame may be written as a header and a separate payload buffer.
    static func from(_ actions: [ConnectionAction], writtenBy writer: Role) -> [Event] {
        var events: [Event] = []
        var pending: [UInt8] = []
        func flush() {
            if !pending.isEmpty { events += frames(in: pending, writtenBy: writer) }
            pending = []
        }
        for action in actions {
            if case .write(let buffer) = action {
                pending += buffer.bytes
                continue
            }
            flush()
            switch action {
            case .write: break
            case .deliver(let message): events.append(.deliver(message))
            case .pongReceived(let payload): events.append(.pongReceived(payload.bytes))
            case .closeTransport: events.append(.closeTransport)
            case .scheduleTimer(let deadline): events.append(.scheduleTimer(deadline))
            case .failed(let error): events.append(.failed(error.code))
            case .closed(let info, let error): events.append(.closed(info, error: error?.code))
            }
        }
        flush()
        return events
    }
}

/// A `ConnectionStateMachine` with helpers to feed it peer frames and read what it did.
struct MachineHarness {
    var machine: ConnectionStateMachine
    let role: Role

    init(
        _ role: Role,
        limits: WebSocketLimits = .default,
        keepAlive: KeepAlive = .disabled,
        closeTimeout: Duration = .seconds(10),
        validatesUTF8: Bool = true,
        deflate: PerMessageDeflate? = nil,
        now: NIODeadline = at(0)
    ) {
        self.role = role
        machine = ConnectionStateMachine(
            configuration: .init(
                role: role,
                limits: limits,
                keepAlive: keepAlive,
                closeTimeout: closeTimeout,
                validatesUTF8: validatesUTF8,
                deflate: deflate
            ),
            now: now
        )
    }

    /// Every pending action, in order.
    mutating func actions() -> [ConnectionAction] {
        var actions: [ConnectionAction] = []
        while let action = machine.nextAction() { actions.append(action) }
        return actions
    }

    /// Every pending action as events.
    mutating func events() -> [Event] {
        Event.from(actions(), writtenBy: role)
    }

    /// Feeds raw bytes and returns what the machine did.
    @discardableResult
    mutating func receive(_ bytes: [UInt8], now: NIODeadline = at(0)) -> [Event] {
        machine.bytesReceived(ByteBuffer(bytes: bytes), now: now)
        return events()
    }

    /// Feeds one frame as the peer would send it (masked when the peer is a client).
    @discardableResult
    mutating func receive(
        _ opcode: Opcode,
        _ payload: [UInt8],
        fin: Bool = true,
        rsv: UInt8 = 0,
        now: NIODeadline = at(0)
    ) -> [Event] {
        receive(WireFrame.bytes(from: role.peer, fin: fin, rsv: rsv, opcode: opcode, payload: payload), now: now)
    }

    @discardableResult
    mutating func receive(text: String, fin: Bool = true, now: NIODeadline = at(0)) -> [Event] {
        receive(.text, Array(text.utf8), fin: fin, now: now)
    }

    /// Feeds a close frame with this code and reason.
    @discardableResult
    mutating func receiveClose(_ code: UInt16, _ reason: String = "", now: NIODeadline = at(0)) -> [Event] {
        receive(.close, WireFrame.closeBody(code, Array(reason.utf8)), now: now)
    }

    /// The transport closed; returns what the machine did.
    mutating func transportClosed() -> [Event] {
        machine.transportClosed()
        return events()
    }

    /// The machine's first failure code among `events`, if any.
    static func failure(in events: [Event]) -> WebSocketError.Code? {
        for case .failed(let code) in events { return code }
        return nil
    }
}

extension WebSocketError.Code {
    /// The close code RFC 6455 §7.4.1 prescribes for a connection failed with this error.
    var expectedCloseCode: UInt16 {
        switch self {
        case .protocolViolation: return 1002
        case .invalidUTF8: return 1007
        case .messageTooLarge: return 1009
        default: return 1011
        }
    }
}

extension [Event] {
    /// The reason of a close frame sent when failing the connection is human text (not API):
    /// keep only the code of every written close frame.
    var ignoringCloseReasons: [Event] {
        map { event in
            guard case .frame(var frame) = event, frame.opcode == .close, frame.payload.count > 2 else { return event }
            frame.payload = [UInt8](frame.payload.prefix(2))
            return .frame(frame)
        }
    }

    /// The close frames written, decoded.
    var writtenCloseFrames: [WrittenFrame] {
        compactMap { event in
            guard case .frame(let frame) = event, frame.opcode == .close else { return nil }
            return frame
        }
    }
}
