"""`duplex ws-echo` against hand-written bytes (no websockets library involved).

The opening handshake answers to malformed upgrade requests (RFC 6455 §4.2.1-§4.4),
and frame-level rules a library client cannot be made to break.
"""

from __future__ import annotations

import os
import socket
import struct
import time

import pytest

from peers.raw_peers import RawClient, accept_key, close_payload, http_exchange, upgrade_request

TEXT, BINARY, CLOSE, PING, PONG, CONTINUATION = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0


def test_valid_upgrade_is_accepted(echo_server):
    """RFC 6455 §4.2.2: 101, Upgrade/Connection, and the accept key derived from ours."""
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    answer = http_exchange(echo_server().port, upgrade_request("/chat?x=1", key=key))
    assert answer.status == 101, answer.raw
    assert answer.headers.get("upgrade", "").lower() == "websocket", answer.raw
    assert "upgrade" in answer.headers.get("connection", "").lower(), answer.raw
    # RFC 6455 §1.3 worked example: this key gives s3pPLMBiTxaQ9kYGzzhZRbK+xOo=.
    assert answer.headers.get("sec-websocket-accept") == accept_key(key) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", answer.raw


def test_missing_key_is_400(echo_server):
    """RFC 6455 §4.2.1 item 5 / §4.2.2: a request without Sec-WebSocket-Key gets 400."""
    answer = http_exchange(echo_server().port, upgrade_request(key=None))
    assert answer.status == 400, answer.raw


@pytest.mark.parametrize("version", ["8", "12", "14"])
def test_unsupported_version_is_426_with_supported_version(version, echo_server):
    """RFC 6455 §4.4: 426 Upgrade Required with `Sec-WebSocket-Version: 13`."""
    answer = http_exchange(echo_server().port, upgrade_request(version=version))
    assert answer.status == 426, answer.raw
    assert answer.headers.get("sec-websocket-version") == "13", answer.raw


def test_post_upgrade_is_405(echo_server):
    """RFC 6455 §4.1 item 2: the opening handshake is a GET; other methods are not allowed."""
    answer = http_exchange(echo_server().port, upgrade_request(method="POST"))
    assert answer.status == 405, answer.raw


def test_header_block_over_16_KiB_is_431(echo_server):
    """RFC 6585 §5: an oversized request header block gets 431."""
    padding = [(f"X-Pad-{index}", "p" * 1000) for index in range(20)]  # ~20 KiB
    answer = http_exchange(echo_server().port, upgrade_request(extra=padding))
    assert answer.status == 431, answer.raw


def test_header_block_under_16_KiB_is_accepted(echo_server):
    padding = [(f"X-Pad-{index}", "p" * 1000) for index in range(12)]  # ~12 KiB
    answer = http_exchange(echo_server().port, upgrade_request(extra=padding))
    assert answer.status == 101, answer.raw


def open_client(server) -> RawClient:
    client = RawClient(server.port)
    assert client.status == 101, client.status_line
    return client


def test_control_frames_inside_a_fragmented_message(echo_server):
    """RFC 6455 §5.4: a ping between fragments is answered at once; the message still echoes."""
    with open_client(echo_server("--no-compression")) as client:
        client.send(TEXT, "frag".encode(), fin=False)
        client.send(PING, b"mid")
        client.send(CONTINUATION, " ✓".encode(), fin=False)
        client.send(CONTINUATION, b"", fin=True)
        first, second = client.read_frame(), client.read_frame()
        assert (first.opcode, first.payload) == (PONG, b"mid"), first
        assert (second.opcode, second.fin, second.payload) == (TEXT, True, "frag ✓".encode()), second
        assert not first.masked and not second.masked, "RFC 6455 §5.1: server frames are never masked"
        client.send(CLOSE, close_payload(1000))
        frames = client.read_until_closed()
    assert [(parsed.opcode, parsed.close_code) for parsed in frames] == [(CLOSE, 1000)], frames


def test_utf8_split_across_fragments_is_valid(echo_server):
    """RFC 6455 §5.6/§8.1: UTF-8 is validated per message, not per frame."""
    encoded = "🎉".encode()
    with open_client(echo_server("--no-compression")) as client:
        client.send(TEXT, encoded[:1], fin=False)
        client.send(CONTINUATION, encoded[1:3], fin=False)
        client.send(CONTINUATION, encoded[3:], fin=True)
        echoed = client.read_frame()
        assert (echoed.opcode, echoed.payload) == (TEXT, encoded), echoed


FAILURES = [
    # (frames from the client, expected close code from our server)
    pytest.param([dict(opcode=TEXT, payload=b"unmasked", masked=False)], 1002, id="5.1-unmasked-client-frame"),
    pytest.param([dict(opcode=TEXT, payload=b"x", rsv1=True)], 1002, id="5.2-rsv1-without-extension"),
    pytest.param([dict(opcode=0x3, payload=b"x")], 1002, id="5.2-reserved-opcode"),
    pytest.param([dict(opcode=PING, payload=b"x" * 126)], 1002, id="5.5-ping-over-125-bytes"),
    pytest.param([dict(opcode=CONTINUATION, payload=b"x")], 1002, id="5.4-continuation-without-start"),
    pytest.param([dict(opcode=CLOSE, payload=close_payload(1005))], 1002, id="7.4.1-close-code-1005-on-wire"),
    pytest.param([dict(opcode=TEXT, payload=b"\xc3\x28")], 1007, id="8.1-invalid-utf8-text"),
    pytest.param([dict(opcode=CLOSE, payload=close_payload(1000) + b"\xff")], 1007, id="5.5.1-invalid-utf8-reason"),
]


@pytest.mark.parametrize("frames,close_code", FAILURES)
def test_violation_is_answered_with_close_code(frames, close_code, echo_server):
    """RFC 6455 §7.1.7: the server fails the connection with the right code, then closes TCP."""
    server = echo_server("--no-compression")
    with open_client(server) as client:
        for spec in frames:
            options = dict(spec)
            client.send(options.pop("opcode"), options.pop("payload"), **options)
        received = client.read_until_closed()
    closes = [parsed for parsed in received if parsed.opcode == CLOSE]
    assert closes, f"no close frame before TCP closed: {received}"
    assert closes[0].close_code == close_code, received
    # The server survived: a new connection works.
    with open_client(server) as client:
        client.send(TEXT, b"still alive")
        assert client.read_frame().payload == b"still alive"


def test_invalid_utf8_fails_before_the_rest_of_a_large_text_frame(echo_server):
    """RFC 6455 §8.1: text that is not valid UTF-8 fails the connection with 1007 as soon as the
    bad bytes arrive: the server does not wait for the remaining MiB of the frame."""
    with open_client(echo_server("--no-compression")) as client:
        mask = os.urandom(4)
        header = struct.pack("!BBQ", 0x80 | TEXT, 0x80 | 127, 1 << 20) + mask
        prefix = b"\xc0\x80" + b"a" * 98  # C0 80: an overlong NUL, never valid (RFC 3629 §3)
        client.send_raw(header + bytes(byte ^ mask[index % 4] for index, byte in enumerate(prefix)))
        client.sock.settimeout(2.0)
        started = time.monotonic()
        try:
            received = client.read_until_closed()
        except (socket.timeout, TimeoutError):
            pytest.fail("no close within 2 s: the server waits for the whole frame before validating it")
        elapsed = time.monotonic() - started
    closes = [parsed for parsed in received if parsed.opcode == CLOSE]
    assert closes, f"no close frame before TCP closed: {received}"
    assert closes[0].close_code == 1007, received
    assert elapsed < 2.0, elapsed
