"""`duplex ws URL` without --echo: stdin lines out as text, received messages printed.

Output format (the CLI contract): `< TEXT` with control characters escaped (`\\n`, `\\t`,
`\\x01`), `< [binary N bytes] HEX` for binary; stdin EOF closes with 1000 and exits 0.
"""

from __future__ import annotations

from harness.matrix import ALL_PEERS
from harness.processes import LineProcess

PEER = ALL_PEERS[-1]  # the latest websockets, new implementation


def test_interactive_session(peer_server, duplex_bin):
    server = peer_server(PEER)
    steps = [
        {"recv": True},
        {"recv": True},
        {"send_text": "tab\there\nnew\x01 ✓"},
        {"send_bytes": "00ff10"},
        {"send_text": ""},
    ]
    plan_id, url = server.plan_url(steps=steps, close={"await": True})
    cli = LineProcess([duplex_bin, "ws", url], "duplex ws (interactive)", stdin=True)
    try:
        cli.write_line("hello")
        cli.write_line("wörld ✓")
        printed = [cli.next_line(15) for _ in range(3)]
        assert printed == ["< tab\\there\\nnew\\x01 ✓", "< [binary 3 bytes] 00ff10", "< "], cli.describe()
        cli.close_stdin()
        returncode = cli.proc.wait(15)
        stderr = cli.stderr_text()
    finally:
        cli.stop()
    record = server.result(plan_id)
    assert [step.get("text") for step in record["steps"][:2]] == ["hello", "wörld ✓"], record
    # stdin EOF: our client starts the close with 1000 (RFC 6455 §7.1.2).
    assert record["close"]["rcvd_code"] == 1000, record
    assert "closed code=1000 reason=" in stderr, stderr
    assert returncode == 0, stderr


def test_interactive_eof_closes_normally(peer_server, duplex):
    server = peer_server(PEER)
    plan_id, url = server.plan_url(close={"await": True})
    cli = duplex("ws", url, stdin="")
    record = server.result(plan_id)
    assert record["close"]["rcvd_code"] == 1000, record
    cli.expect_closed(1000)
