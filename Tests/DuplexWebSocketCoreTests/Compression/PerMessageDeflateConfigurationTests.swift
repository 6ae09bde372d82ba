import Testing

@testable import DuplexWebSocketCore

@Suite("RFC 7692 §7.1: permessage-deflate configuration ranges")
struct PerMessageDeflateConfigurationTests {
    @Test("the defaults are context takeover, no window limits, level 6, memory level 8, compress all")
    func defaults() throws {
        let configuration = PerMessageDeflateConfiguration.default
        #expect(!configuration.serverNoContextTakeover)
        #expect(!configuration.clientNoContextTakeover)
        #expect(configuration.serverMaxWindowBits == nil)
        #expect(configuration.clientMaxWindowBits == nil)
        #expect(configuration.compressionLevel == 6)
        #expect(configuration.memoryLevel == 8)
        #expect(configuration.minimumMessageSize == 0)
        try configuration.validate()
    }

    static let validConfigurations: [PerMessageDeflateConfiguration] = [
        PerMessageDeflateConfiguration(serverMaxWindowBits: 9, clientMaxWindowBits: 9),
        PerMessageDeflateConfiguration(serverMaxWindowBits: 15, clientMaxWindowBits: 15),
        PerMessageDeflateConfiguration(
            serverNoContextTakeover: true,
            clientNoContextTakeover: true,
            compressionLevel: 0,
            memoryLevel: 1,
            minimumMessageSize: 1024
        ),
        PerMessageDeflateConfiguration(compressionLevel: 9, memoryLevel: 9),
    ]

    @Test("values at the ends of their ranges are valid", arguments: validConfigurations)
    func acceptsValidValues(_ configuration: PerMessageDeflateConfiguration) throws {
        try configuration.validate()
    }

    static let invalidConfigurations: [PerMessageDeflateConfiguration] = [
        // RFC 7692 §7.1.2 allows 8, but zlib cannot deflate with an 8-bit window.
        PerMessageDeflateConfiguration(serverMaxWindowBits: 8),
        PerMessageDeflateConfiguration(clientMaxWindowBits: 8),
        PerMessageDeflateConfiguration(serverMaxWindowBits: 16),
        PerMessageDeflateConfiguration(clientMaxWindowBits: 16),
        PerMessageDeflateConfiguration(compressionLevel: -1),
        PerMessageDeflateConfiguration(compressionLevel: 10),
        PerMessageDeflateConfiguration(memoryLevel: 0),
        PerMessageDeflateConfiguration(memoryLevel: 10),
        PerMessageDeflateConfiguration(minimumMessageSize: -1),
    ]

    @Test("out-of-range values throw invalidConfiguration", arguments: invalidConfigurations)
    func rejectsInvalidValues(_ configuration: PerMessageDeflateConfiguration) {
        let error = #expect(throws: WebSocketError.self) { try configuration.validate() }
        #expect(error?.code == .invalidConfiguration)
    }
}
