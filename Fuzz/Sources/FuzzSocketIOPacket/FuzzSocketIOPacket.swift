import DuplexSocketIOCore
import FuzzJSONSupport
import FuzzSupport
import NIOCore

// Socket.IO packets (protocol.md 4.2.2-4.2.4) through `SocketIOPacketDecoder`: text headers,
// JSON payloads and the reassembly of binary attachments.
//
// Input: [flags] then messages, one per line: `B:<bytes>` is a binary message (an attachment),
// anything else a text message; flags: bit 0 protocol v4 (else v5), bits 1-3 maxAttachments.
//
// Oracle: decoding fails only with `invalidPacket`, `invalidJSON`, `jsonTooDeep`,
// `tooManyAttachments` or `invalidAttachment`, and leaves nothing pending; a header never
// awaits more than maxAttachments; a complete packet carries only binaries that arrived, and
// re-encodes to messages that decode to the same packet (up to the protocol v4 encoder's
// rewrites: CONNECT auth becomes a query string, so only an empty one is compared (it reads as
// `{}` and is written as no query); a
// CONNECT_ERROR `{"message":m}` is written as the string m; a payload with a number beyond the
// double range is not checked, since its infinity is written `null` as JSON.stringify does,
// which may leave an EVENT without a valid name, as in JavaScript; numbers compare as in the
// JSON harness).

private let maxDepth = 8

/// The executable's entry point under SwiftPM's debug-build name (see `runLibFuzzer`).
@_cdecl("FuzzSocketIOPacket_main")
public func fuzzSocketIOPacketMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzSocketIOPacket)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSocketIOPacket(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.byte()
    let version: SocketIOProtocolVersion = flags & 1 == 1 ? .v4 : .v5
    let maxAttachments = Int(flags >> 1) & 7
    var decoder = SocketIOPacketDecoder(protocolVersion: version, maxAttachments: maxAttachments, maxDepth: maxDepth)

    for line in input.rest().split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
        let output: SocketIOPacketDecoder.Output
        do {
            if line.starts(with: "B:".utf8) {
                output = try decoder.binaryReceived(ByteBuffer(bytes: line.dropFirst(2)))
            } else {
                output = try decoder.textReceived(String(decoding: line, as: UTF8.self))
            }
        } catch {
            let documented: [SocketIOError.Code] = [
                .invalidPacket, .invalidJSON, .jsonTooDeep, .tooManyAttachments, .invalidAttachment,
            ]
            expect(documented.contains(error.code), "decoder threw \(error.code): \(error.message)")
            expect(decoder.pendingAttachmentCount == 0, "an error left \(decoder.pendingAttachmentCount) attachments pending")
            continue
        }
        switch output {
        case .awaitingAttachments(let count):
            expect(count > 0 && count <= maxAttachments, "awaiting \(count) attachments, limit \(maxAttachments)")
            expect(count == decoder.pendingAttachmentCount, "awaiting \(count) but \(decoder.pendingAttachmentCount) pending")
        case .packet(let packet):
            expect(decoder.pendingAttachmentCount == 0, "a complete packet left attachments pending")
            checkRoundTrip(packet, version: version)
        }
    }
    return 0
}

private func checkRoundTrip(_ packet: SocketIOPacket, version: SocketIOProtocolVersion) {
    guard packet.data.map({ $0.withInfinitiesAsNull == $0 }) ?? true else { return }
    // Protocol v4 writes CONNECT auth as a query string, whose values are all strings.
    if version == .v4, packet.type == .connect, case .object(let auth)? = packet.data, !auth.members.isEmpty { return }
    let encoded = SocketIOPacketEncoder(protocolVersion: version).encode(packet)
    var decoder = SocketIOPacketDecoder(protocolVersion: version, maxAttachments: encoded.attachments.count, maxDepth: maxDepth + 1)
    do {
        var output = try decoder.textReceived(encoded.text)
        for attachment in encoded.attachments {
            output = try decoder.binaryReceived(attachment)
        }
        guard case .packet(let again) = output else {
            violated("\(packet) re-encoded as \(encoded.text) is incomplete: \(output)")
        }
        expect(
            again.type == packet.type && again.namespace == packet.namespace && again.ackID == packet.ackID
                && isSame(again.data, v4Rewritten(packet, version: version)),
            "\(packet) re-encoded as \(encoded.text) decodes as \(again)"
        )
    } catch {
        violated("\(packet) re-encoded as \(encoded.text) fails to decode: \(error)")
    }
}

/// The payload the encoder writes for `packet`: protocol v4 has no form for an empty CONNECT
/// query, and its CONNECT_ERROR carries the message string alone (protocol.md 4.2.9).
private func v4Rewritten(_ packet: SocketIOPacket, version: SocketIOProtocolVersion) -> JSONValue? {
    guard version == .v4 else { return packet.data }
    switch packet.type {
    case .connect where packet.data == .object(JSONObject()):
        return nil
    case .connectError:
        if let message = packet.data?["message"], case .string = message { return message }
        return packet.data
    default:
        return packet.data
    }
}

private func isSame(_ a: JSONValue?, _ b: JSONValue?) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    return a.isSameNumberwise(as: b)
}
