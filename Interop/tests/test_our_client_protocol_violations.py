"""`duplex ws --echo` against a server that breaks RFC 6455 after a valid upgrade.

Peer input never traps: each violation becomes the documented error (exit 5, category
protocolViolation) and our client fails the connection with the right close code
(RFC 6455 §7.1.7, §7.4.1): 1002 protocol error, 1007 invalid data.
"""

from __future__ import annotations

import pytest

from harness.processes import EXIT_PROTOCOL
from peers.raw_peers import RawServer, close_payload, frame

TEXT, BINARY, CLOSE, PING, CONTINUATION = 0x1, 0x2, 0x8, 0x9, 0x0

VIOLATIONS = [
    # (server bytes after the 101, expected error code, expected close code from our client)
    pytest.param(frame(TEXT, b"masked", mask=b"\x01\x02\x03\x04"), "protocolViolation", 1002,
                 id="5.1-masked-server-frame"),
    pytest.param(frame(TEXT, b"rsv", rsv1=True), "protocolViolation", 1002, id="5.2-rsv1-without-extension"),
    pytest.param(frame(0x3, b"x"), "protocolViolation", 1002, id="5.2-reserved-data-opcode"),
    pytest.param(frame(0xB, b"x"), "protocolViolation", 1002, id="5.2-reserved-control-opcode"),
    pytest.param(frame(PING, b"x", fin=False), "protocolViolation", 1002, id="5.5-fragmented-ping"),
    pytest.param(frame(PING, b"x" * 126), "protocolViolation", 1002, id="5.5-ping-over-125-bytes"),
    pytest.param(frame(CONTINUATION, b"orphan"), "protocolViolation", 1002, id="5.4-continuation-without-start"),
    pytest.param(frame(TEXT, b"a", fin=False) + frame(TEXT, b"b"), "protocolViolation", 1002,
                 id="5.4-new-message-inside-fragmented-one"),
    pytest.param(frame(CLOSE, b"\x03"), "protocolViolation", 1002, id="5.5.1-one-byte-close-payload"),
    pytest.param(frame(CLOSE, close_payload(1005)), "protocolViolation", 1002, id="7.4.1-close-code-1005-on-wire"),
    pytest.param(frame(CLOSE, close_payload(999)), "protocolViolation", 1002, id="7.4.2-close-code-999"),
    pytest.param(frame(TEXT, b"\xc3\x28 invalid"), "invalidUTF8", 1007, id="8.1-invalid-utf8-text"),
    pytest.param(frame(TEXT, b"ok \xf0\x9f", fin=False) + frame(CONTINUATION, b"\x28"), "invalidUTF8", 1007,
                 id="8.1-invalid-utf8-across-fragments"),
    pytest.param(frame(CLOSE, close_payload(1000) + b"\xff"), "invalidUTF8", 1007, id="5.5.1-invalid-utf8-reason"),
]


@pytest.mark.parametrize("after_upgrade,code,close_code", VIOLATIONS)
def test_violation_fails_the_connection(after_upgrade, code, close_code, duplex):
    with RawServer("frames", after_upgrade=after_upgrade) as server:
        cli = duplex("ws", server.url, "--echo", "--no-compression", timeout=20)
    cli.expect_error(code, "protocolViolation", EXIT_PROTOCOL)
    assert len(server.connections) == 1
    frames = server.connections[0].frames()
    closes = [parsed for parsed in frames if parsed.opcode == CLOSE]
    assert closes, f"our client sent no close frame (frames: {frames}):\n{cli.describe()}"
    assert all(parsed.masked for parsed in frames), "RFC 6455 §5.3: every client frame is masked"
    assert closes[0].close_code == close_code, f"close frame {closes[0]}:\n{cli.describe()}"
