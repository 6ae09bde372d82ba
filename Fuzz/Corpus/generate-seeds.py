#!/usr/bin/env python3
"""Writes the committed seed corpus: real frames, handshakes and the examples of
RFC 6455, RFC 7692 and protocol.md, each prefixed with the harness's flag bytes (see the
comment at the top of each Fuzz/Sources/Fuzz<Target>/*.swift). Re-run after changing a
harness's input layout: `python3 Fuzz/Corpus/generate-seeds.py`."""
import hashlib, os, struct, zlib

ROOT = os.path.dirname(os.path.abspath(__file__))
MASK = bytes([0x37, 0xFA, 0x21, 0x3D])  # RFC 6455 §5.7's example key


def frame(opcode, payload=b"", fin=True, rsv1=False, masked=False, key=MASK):
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    n = len(payload)
    if n < 126:
        head = bytes([first, (0x80 if masked else 0) | n])
    elif n <= 0xFFFF:
        head = bytes([first, (0x80 if masked else 0) | 126]) + struct.pack(">H", n)
    else:
        head = bytes([first, (0x80 if masked else 0) | 127]) + struct.pack(">Q", n)
    if not masked:
        return head + payload
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def deflate(data, final=False):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    out = c.compress(data) + c.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)
    return out if final else out[:-4]  # RFC 7692 §7.2.1: drop 00 00 ff ff


def write(target, seeds):
    directory = os.path.join(ROOT, target)
    os.makedirs(directory, exist_ok=True)
    for old in os.listdir(directory):
        os.remove(os.path.join(directory, old))
    for seed in seeds:
        data = seed.encode() if isinstance(seed, str) else seed
        name = hashlib.sha1(data).hexdigest()[:16]
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)


def both(payloadframes):
    """The same frames as a client sends them (masked) and as a server sends them."""
    return [(True, b"".join(frame(*f[:2], **dict(f[2], masked=True)) for f in payloadframes)),
            (False, b"".join(frame(*f[:2], **f[2]) for f in payloadframes))]


hello = deflate(b"Hello")  # RFC 7692 §7.2.3.1: f2 48 cd c9 c9 07 00
close_1000 = struct.pack(">H", 1000) + b"bye"
conversations = [
    [(1, b"Hello", {})],
    [(1, b"Hel", {"fin": False}), (0, b"lo", {})],
    [(9, b"Hello", {}), (2, bytes(range(200)), {})],
    [(1, "héllo wörld €𝄞".encode(), {}), (8, close_1000, {})],
    [(1, hello, {"rsv1": True})],
    [(1, hello[:3], {"fin": False, "rsv1": True}), (0, hello[3:], {})],
    [(2, deflate(bytes(300)), {"rsv1": True}), (2, deflate(b"ab" * 40, final=True), {"rsv1": True})],
    [(10, b"12345678", {}), (8, b"", {})],
]

# FrameParser: [flags: bit0 client, bit1 RSV1, bits2-3 limit] [split seed] [stream]
seeds = []
for conversation in conversations:
    for masked, stream in both(conversation):
        flags = (0 if masked else 1) | 2 | (3 << 2)
        seeds.append(bytes([flags, 0]) + stream)
        seeds.append(bytes([flags & ~2 | (1 << 2), 7]) + stream)
seeds.append(bytes([1 | 12, 0]) + frame(2, bytes(70000))[:20])
seeds.append(bytes([1 | 12, 0, 0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 1]))
write("FrameParser", seeds)

# WebSocketConnection: [flags: bit0 client, bit1 deflate, bit2/3 no takeover, bit4 no UTF-8
# check, bit5 keepalive, bits6-7 limits] [split seed] [stream]
seeds = []
for i, conversation in enumerate(conversations):
    for masked, stream in both(conversation):
        role = 0 if masked else 1
        seeds.append(bytes([role | 2 | (1 << 6), 0]) + stream)
        seeds.append(bytes([role | 2 | 4 | 8 | (2 << 6), 5 + i]) + stream)
        if i < 4:
            seeds.append(bytes([role | 0x20, 3]) + stream)
write("WebSocketConnection", seeds)

# Inflate: [flags: bits0-2 limit index, bit3 twice] [split seed] [deflate data]
write("Inflate", [
    bytes([4, 0]) + hello,
    bytes([4 | 8, 3]) + hello,
    bytes([4, 0]) + bytes([0x00, 0x05, 0x00, 0xFA, 0xFF]) + b"Hello",  # RFC 7692 §7.2.3.3 stored block
    bytes([4, 0]) + deflate(b"Hello", final=True) + b"\x00",  # §7.2.3.4 BFINAL then a byte
    bytes([4, 0]) + bytes([0xF2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xCA, 0xC9, 0xC9, 0x07, 0x00]),  # §7.2.3.5
    bytes([3, 9]) + deflate(bytes(100000)),  # a bomb for a 64-byte limit
    bytes([5, 0]) + deflate(os.urandom(0) + bytes(range(256)) * 16),
    bytes([0, 0]) + b"\x00",  # §7.2.3.6 empty message
])

# UTF8Validator: [split seed] [bytes]
write("UTF8Validator", [bytes([s]) + t for s, t in [
    (0, "Hello, world".encode()), (3, "κόσμε €𝄞 ﷽".encode()), (5, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"),
    (1, b"\xf4\x90\x80\x80"), (2, b"\xc0\xaf"), (7, b"\xe0\x80\xaf"), (9, b"plain ascii text that is long enough for words\xf0\x9f\x98")]])

# ServerHandshake: an HTTP request head as text
request = ("GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n"
           "Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n")
write("ServerHandshake", [
    request,
    request + "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n",
    request + "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10, permessage-deflate\r\n",
    request.replace("Version: 13", "Version: 8"),
    request.replace("GET", "POST"),
    request.replace("Upgrade: websocket\r\n", ""),
])

# ClientHandshake: [flags: bits0-1 offer, bit2 small limits] [split seed] [response]
response = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n")
write("ClientHandshake", [
    b"\x00\x00" + (response + "Sec-WebSocket-Protocol: chat\r\n\r\n").encode(),
    b"\x01\x05" + (response + "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=12\r\n\r\n").encode(),
    b"\x03\x00" + (response + "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=9\r\n\r\n").encode(),
    b"\x02\x00" + (response + "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
                   "client_no_context_takeover\r\n\r\n").encode(),
    b"\x04\x03HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
    b"\x00\x00HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\n\n",
])

# ExtensionNegotiation: [configuration] [header values, one per line]
write("ExtensionNegotiation", [bytes([c]) + v.encode() for c, v in [
    (0, "permessage-deflate; client_max_window_bits"),
    (1, "permessage-deflate; server_no_context_takeover; client_max_window_bits=10"),
    (2, "permessage-deflate; server_max_window_bits=12, permessage-deflate"),
    (3, "foo, permessage-deflate; client_max_window_bits=\"15\"\nx-webkit-deflate-frame"),
    (0, "permessage-deflate;server_max_window_bits=8, permessage-deflate; server_max_window_bits=15"),
]])

# EngineIOPacket: [flags: bit0 v3, bit1 binary] [message]
open_json = '0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'
write("EngineIOPacket", [bytes([f]) + (m.encode() if isinstance(m, str) else m) for f, m in [
    (0, "4hello"), (0, "2probe"), (0, "3probe"), (0, "5"), (0, "6"), (0, "1"), (0, "bAQIDBA=="), (0, open_json),
    (1, "b4AQID"), (1, open_json.replace(',"maxPayload":1000000', "")), (2, b"\x01\x02\x03"), (3, b"\x04\x01\x02\x03"),
    (0, "4€𝄞"),
]])

# EngineIOPayload: [flags: bits0-1 format (v4, v3 binary, v3 base64, JSONP), bit2 octet-stream,
# bits3-5 maxPackets-1] [body]
many = 7 << 3
write("EngineIOPayload", [bytes([f]) + b for f, b in [
    (many, b"4hello\x1e2\x1e4world"), (many, b"4hello\x1ebAQIDBA=="), (many | 1, "6:4hello2:4€".encode()),
    (many | 2, b"6:4hello10:b4AQIDBA=="), (many | 1, b"\x00\x06\xff4hello\x01\x04\xff\x04\x01\x02\x03"),
    (many | 3, b"d=6%3A4hello2%3A4%E2%82%AC"), (many | 3, b"d=11:4hel%5C%5Cnlo"), (0, b"1"),
]])

# EngineIORequest: [flags: bit0 allow EIO=3, bit1 polling only] [request head]
write("EngineIORequest", [bytes([f]) + r.encode() for f, r in [
    (0, "GET /engine.io/?EIO=4&transport=polling&t=N8hyd6w"),
    (0, "POST /engine.io/?EIO=4&transport=polling&sid=lv_VI97HAXpY6yYWAAAC\nContent-Type: text/plain;charset=UTF-8"),
    (0, "GET /engine.io/?EIO=4&transport=websocket&sid=lv_VI97HAXpY6yYWAAAC\nUpgrade: websocket\nConnection: Upgrade"),
    (1, "GET /socket.io/?EIO=3&transport=polling&j=0&b64=1"),
    (0, "OPTIONS /engine.io/?EIO=4&transport=polling\nOrigin: http://example.com"),
    (2, "GET /engine.io/?EIO=4&transport=websocket\nUpgrade: websocket"),
    (0, "GET /engine.io/?EIO=4&transport=polling&transport=websocket&sid=%zz"),
]])


# EngineIOServerSession: [flags: bit0 over WebSocket, bits1-2 format] [ops]; op 0 poll, 1 poll
# aborted, 2 post started, 3 post aborted, 4 post <len> <body> <octet?>, 5 upgrade, 6/7 ws
# text/binary <len> <bytes>, 8/9 ws closed/failed, 10 timer <2 bytes ms>, 11 send <len> <text>, 12 close
def post(body):
    return bytes([4, len(body)]) + body + b"\x00"


def ws(text):
    return bytes([6, len(text)]) + text


write("EngineIOServerSession", [
    bytes([0, 0]) + post(b"4hello\x1e3") + bytes([0, 11, 2]) + b"hi" + bytes([10, 0x0F, 0xA0, 0, 10, 0x0F, 0xA0]),
    bytes([0, 0, 5]) + ws(b"2probe") + bytes([0]) + ws(b"5") + ws(b"4hello") + bytes([11, 1, 0x41, 12]),
    bytes([0, 0, 0, 2, 2]) + post(b"1"),
    bytes([1]) + ws(b"3") + ws(b"4hi") + bytes([7, 3, 1, 2, 3, 10, 0x27, 0x10, 8]),
    bytes([2, 0]) + post(b"6:4hello1:2") + bytes([0, 5]) + ws(b"2probe") + bytes([10, 0x13, 0x88]),
    bytes([6, 0, 4, 9]) + b"d=2%3A4x" + b"\x00" + bytes([0, 12, 0]),
])

# SocketIOPacket: [flags: bit0 v4, bits1-3 maxAttachments] [messages, one per line, B: = binary]
sio = [
    "0", '0/admin,{"token":"123"}', '0{"sid":"wZX3oN0bSVIhsaknAAAI"}', '4{"message":"Not authorized"}',
    '2["foo"]', '2/admin,["bar"]', '212["foo"]', '3/admin,13["bar"]', "1", "1/admin,",
    '51-["baz",{"_placeholder":true,"num":0}]\nB:\x01\x02\x03',
    '52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]\nB:\x01\nB:\x02\x03',
    '61-15["bar",{"_placeholder":true,"num":0}]\nB:xyz',
    '2["foo","MzUPkW0"]\n2[1.5e3,-0,{"a":[null,true,false]}]',
]
write("SocketIOPacket", [bytes([4 << 1]) + s.encode() for s in sio] + [bytes([1 | 4]) + b"0/admin?token=1,"])

# JSON: [maxDepth] [text]
write("JSON", [bytes([32]) + j.encode() for j in [
    '{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000}',
    '[1, -0, 0.5, 1e308, 1E-7, 9007199254740993, -9223372036854775808, 123456789012345678901234567890]',
    '"\\u00e9\\ud834\\udd1e\\n\\t\\"\\\\\\/ plain é"', ' {"a":{"b":{"c":[[[]]]}},"a":2} ', "null", "true", "[]",
    '{"_placeholder":true,"num":0}', "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
]])
