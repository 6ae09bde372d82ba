import DuplexEngineIO
import Testing

/// protocol.md 4.1.1: refused requests get the reference server's status and JSON body.
@Suite("protocol.md 4.1.1 Error codes", .timeLimit(.minutes(1)))
struct EngineIOServerErrorTests {
    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var method: String
        var query: String
        var headers: [(String, String)] = []
        var status: Int
        var code: Int
    }

    static let messages = [
        0: "Transport unknown", 1: "Session ID unknown", 2: "Bad handshake method", 3: "Bad request",
        4: "Forbidden", 5: "Unsupported protocol version",
    ]

    static let cases: [Case] = [
        Case(description: "transport missing", method: "GET", query: "EIO=4", status: 400, code: 0),
        Case(description: "transport unknown", method: "GET", query: "EIO=4&transport=flashsocket", status: 400, code: 0),
        Case(description: "transport repeated", method: "GET", query: "EIO=4&transport=polling&transport=polling", status: 400, code: 0),
        Case(description: "sid unknown", method: "GET", query: "EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA", status: 400, code: 1),
        Case(description: "sid malformed", method: "GET", query: "EIO=4&transport=polling&sid=%2E%2E", status: 400, code: 1),
        Case(
            description: "POST to unknown sid", method: "POST", query: "EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA", status: 400,
            code: 1),
        Case(description: "handshake with POST", method: "POST", query: "EIO=4&transport=polling", status: 400, code: 2),
        Case(description: "handshake with PUT", method: "PUT", query: "EIO=4&transport=polling", status: 400, code: 2),
        Case(description: "transport=websocket without upgrade", method: "GET", query: "EIO=4&transport=websocket", status: 400, code: 3),
        Case(description: "malformed query escape", method: "GET", query: "EIO=4&transport=polling&x=%zz", status: 400, code: 3),
        Case(description: "EIO missing", method: "GET", query: "transport=polling", status: 400, code: 5),
        Case(description: "EIO=3 without allowEIO3", method: "GET", query: "EIO=3&transport=polling", status: 400, code: 5),
        Case(description: "EIO=5", method: "GET", query: "EIO=5&transport=polling", status: 400, code: 5),
        Case(
            description: "origin not allowed",
            method: "GET",
            query: "EIO=4&transport=polling",
            headers: [("Origin", "https://evil.example")],
            status: 403,
            code: 4
        ),
    ]

    @Test(arguments: cases)
    func refusedRequestGetsStatusAndJSONBody(_ testCase: Case) async throws {
        let configuration = EngineIOServerConfiguration(cors: .allowList(["https://good.example"]))
        try await EngineIOServerFixture.run(configuration) { server in
            let response = try await LoopbackHTTP.request(
                testCase.method,
                "\(server.path)?\(testCase.query)",
                port: server.port,
                headers: testCase.headers,
                body: testCase.method == "POST" ? Array("4x".utf8) : []
            )
            #expect(response.status == testCase.status)
            #expect(response.header("Content-Type") == "application/json")
            let message = try #require(Self.messages[testCase.code])
            #expect(response.text == "{\"code\":\(testCase.code),\"message\":\"\(message)\"}")
        }
    }

    @Test("POST larger than maxHttpBufferSize gets 413 and closes the session")
    func oversizedPost() async throws {
        try await EngineIOServerFixture.run(EngineIOServerConfiguration(maxHttpBufferSize: 100)) { server in
            let (sid, handshake) = try await server.openPollingSession()
            #expect(handshake.maxPayload == 100)
            let response = try await server.send(sid, ["4" + String(repeating: "x", count: 200)])
            #expect(response.status == 413)
            let next = try await server.poll(sid)
            #expect(next.status == 400)
            #expect(next.text == #"{"code":1,"message":"Session ID unknown"}"#)
        }
    }

    @Test("invalid payload gets 400 and closes the session", arguments: ["abc", "", "4a\u{1E}9"])
    func invalidPayload(_ body: String) async throws {
        try await EngineIOServerFixture.run { server in
            let (sid, _) = try await server.openPollingSession()
            let response = try await server.post("EIO=4&transport=polling&sid=\(sid)", body: Array(body.utf8))
            #expect(response.status == 400)
            #expect(try await server.poll(sid).status == 400)
        }
    }

    @Test("v4 POST declared application/octet-stream gets 400")
    func binaryContentType() async throws {
        try await EngineIOServerFixture.run { server in
            let (sid, _) = try await server.openPollingSession()
            let response = try await server.post(
                "EIO=4&transport=polling&sid=\(sid)",
                body: Array("4hello".utf8),
                headers: [("Content-Type", "application/octet-stream")]
            )
            #expect(response.status == 400)
            #expect(response.text == #"{"code":3,"message":"Bad request"}"#)
        }
    }

    @Test("a POST of more packets than maxPacketsPerPost gets 400")
    func tooManyPacketsPerPost() async throws {
        try await EngineIOServerFixture.run(EngineIOServerConfiguration(maxPacketsPerPost: 4)) { server in
            let (sid, _) = try await server.openPollingSession()
            #expect(try await server.send(sid, ["4a", "4b", "4c", "4d"]).status == 200)
            #expect(try await server.send(sid, ["4a", "4b", "4c", "4d", "4e"]).status == 400)
        }
    }
}
