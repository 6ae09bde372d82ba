import DuplexEngineIOCore
import NIOCore
import Testing

/// SplitMix64: a deterministic generator so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Peer input never traps: every input is accepted or rejected with EngineIOError")
struct RobustnessTests {
    static let seeds: [[UInt8]] = [
        Array("4hello\u{1E}2\u{1E}bAQIDBA==".utf8), Array("6:4hello2:4€6:b4AQID".utf8),
        [0, 4, 0xFF, 0x34, 0x68, 0xC3, 0xA9, 1, 4, 0xFF, 4, 1, 2, 3], Array("d=6%3A4a%5C%5Cnb%5Cn".utf8),
        Array(#"0{"sid":"a","upgrades":["websocket"],"pingInterval":1,"pingTimeout":2,"maxPayload":3}"#.utf8),
    ]

    static func mutations(count: Int) -> [[UInt8]] {
        var generator = SplitMix64(state: 42)
        var inputs: [[UInt8]] = []
        for index in 0..<count {
            var bytes = seeds[index % seeds.count]
            let edits = Int.random(in: 1...4, using: &generator)
            for _ in 0..<edits {
                switch Int.random(in: 0..<4, using: &generator) {
                case 0 where !bytes.isEmpty:
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(
                        in: 0...255,
                        using: &generator
                    )
                case 1 where !bytes.isEmpty:
                    bytes.remove(at: Int.random(in: 0..<bytes.count, using: &generator))
                case 2:
                    bytes.insert(
                        [0x00, 0x01, 0xFF, 0x1E, 0x3A, 0x62, 0x30, 0x39, 0xF0, 0x25][
                            Int.random(in: 0..<10, using: &generator)
                        ],
                        at: Int.random(in: 0...bytes.count, using: &generator)
                    )
                default:
                    bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &generator)))
                }
            }
            inputs.append(bytes)
        }
        return inputs
    }

    @Test("Decoders and session inputs survive 5,000 mutated inputs")
    func mutatedInputs() {
        let formats: [EngineIOPollingFormat] = [.v4, .v3Binary, .v3Base64, .v3JSONP(index: 0)]
        var accepted = 0
        for bytes in Self.mutations(count: 5_000) {
            let buffer = ByteBuffer(bytes: bytes)
            for format in formats {
                if (try? format.decodePayload(buffer, maxPackets: 16)) != nil { accepted += 1 }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            for version in [EngineIOProtocolVersion.v3, .v4] {
                _ = try? EngineIOPacket(webSocketFrame: .text(text), protocolVersion: version)
                _ = try? EngineIOPacket(webSocketFrame: .binary(buffer), protocolVersion: version)
            }
            _ = try? EngineIOHandshake(json: text)
            _ = try? EngineIORequest(method: "GET", target: "/?" + text).classify(allowsEIO3: true)
            _ = EngineIOError.rejection(status: 400, body: buffer)

            var server = EngineIOServerSession.openedOverPolling()
            try? server.postReceived(buffer, now: at(1))
            try? server.upgradeRequested(now: at(1))
            server.webSocketMessageReceived(.text(text), now: at(1))
            server.webSocketMessageReceived(.binary(buffer), now: at(1))
            _ = server.drain()

            var client = EngineIOClientSession()
            _ = client.drain()
            client.pollResponseReceived(buffer, now: at(0))
            _ = client.drain()
        }
        // The mutations must not all be rejected, or the test would prove little.
        #expect(accepted > 250)
    }
}
