import Testing

@testable import DuplexSocketIO

@Suite("SocketIOClientBackoff: exponential delays with jitter (socket.io-client backo2)")
struct SocketIOClientBackoffTests {
    @Test(
        "without jitter the delay doubles from reconnectionDelay up to reconnectionDelayMax",
        arguments: [(0, 1000), (1, 2000), (2, 4000), (3, 5000), (10, 5000), (200, 5000)]
    )
    func exponential(attempt: Int, milliseconds: Int64) {
        let backoff = SocketIOClientBackoff(minimum: .seconds(1), maximum: .seconds(5), randomizationFactor: 0)
        #expect(backoff.delay(attempt: attempt, random: 0.7) == .milliseconds(milliseconds))
    }

    @Test(
        "jitter moves the delay by rand × factor × delay, down when floor(rand × 10) is even",
        arguments: [(0.0, 1000), (0.25, 875), (0.5, 1250), (0.99, 1495)]
    )
    func jitter(random: Double, milliseconds: Int64) {
        let backoff = SocketIOClientBackoff(minimum: .seconds(1), maximum: .seconds(5), randomizationFactor: 0.5)
        #expect(backoff.delay(attempt: 0, random: random) == .milliseconds(milliseconds))
    }

    @Test("delays stay within [0, max] whatever the draw")
    func bounds() {
        let backoff = SocketIOClientBackoff(minimum: .milliseconds(500), maximum: .seconds(2), randomizationFactor: 1)
        for attempt in 0..<8 {
            for step in 0..<20 {
                let delay = backoff.delay(attempt: attempt, random: Double(step) / 20)
                #expect(delay >= .zero && delay <= .seconds(2))
            }
        }
    }
}
