import DuplexEngineIOCore
import FuzzSupport
import NIOCore

// Engine.IO packets carried by WebSocket messages (protocol.md 4.1.5, 4.1.9), v3 and v4, and
// the handshake JSON of `open` packets (protocol.md 4.1.3).
//
// Input: [flags] [message bytes...]; flags: bit 0 v3, bit 1 binary message.
//
// Oracle: decoding fails only with `invalidPacket`; a decoded packet re-encodes to a message
// that decodes to the same packet; an `open` packet's handshake fails only with
// `invalidPacket`, and a parsed handshake round-trips through its JSON.

/// The executable's entry point under SwiftPM's debug-build name (see `runLibFuzzer`).
@_cdecl("FuzzEngineIOPacket_main")
public func fuzzEngineIOPacketMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzEngineIOPacket)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEngineIOPacket(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.byte()
    let version: EngineIOProtocolVersion = flags & 1 == 1 ? .v3 : .v4
    let bytes = input.rest()
    let frame: EngineIOWebSocketFrame =
        flags & 2 != 0 ? .binary(ByteBuffer(bytes: bytes)) : .text(String(decoding: bytes, as: UTF8.self))

    let packet: EngineIOPacket
    do {
        packet = try EngineIOPacket(webSocketFrame: frame, protocolVersion: version)
    } catch {
        expect(error.code == .invalidPacket, "decoding \(frame) threw \(error.code)")
        return 0
    }
    let reencoded = packet.webSocketFrame(protocolVersion: version)
    do {
        let again = try EngineIOPacket(webSocketFrame: reencoded, protocolVersion: version)
        expect(again == packet, "\(packet) re-encodes as \(reencoded), which decodes as \(again)")
    } catch {
        violated("\(packet) re-encodes as \(reencoded), which fails to decode: \(error)")
    }

    if packet.type == .open {
        do {
            let handshake = try EngineIOHandshake(openPacket: packet)
            let again = try EngineIOHandshake(json: handshake.encodedJSON())
            expect(again == handshake, "handshake \(handshake.encodedJSON()) reads back as \(again)")
        } catch {
            expect(error.code == .invalidPacket, "handshake threw \(error.code)")
        }
    }
    return 0
}
