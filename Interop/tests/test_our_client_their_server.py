"""Our client -> their server: `duplex ws URL --echo` against websockets servers.

The websockets server (Interop/peers/ws_server.py) drives each connection by the plan in
its URL: it sends messages and checks each echo, pings, then closes with a given code.
The test asserts both what the server saw and the CLI's exit code and `closed` line.
"""

from __future__ import annotations

import pytest

from harness.matrix import ALL_PEERS, CLOSE_CODES, echo_messages, peer_ids
from harness.processes import EXIT_HANDSHAKE, EXIT_PROTOCOL

peers = pytest.mark.parametrize("peer", ALL_PEERS, ids=peer_ids(ALL_PEERS), scope="module")


def assert_server_steps_passed(record: dict) -> None:
    assert "handler_exception" not in record, record
    for step in record["steps"]:
        assert "exception" not in step, f"step {step['step']} failed: {step['exception']}\n{record}"
        if "echo" in step["step"]:
            assert step["received"] == step["sent"], f"our client's echo differs: {step}"
        if "ping" in step["step"]:
            assert step.get("pong") is True, step


def assert_client_echoed_close(record: dict, code: int) -> None:
    # RFC 6455 §5.5.1: our client answers the server's close frame with the same code.
    assert "close_exception" not in record, record
    assert record["close"]["sent_code"] == code, record
    assert record["close"]["rcvd_code"] == code, f"our client answered close {code} with: {record}"


def extensions_of(cli) -> str:
    connected = cli.connected
    assert connected is not None, f"no 'connected subprotocol=... extensions=...' line:\n{cli.describe()}"
    return connected["extensions"]


ECHO_CASES = [
    pytest.param(peer, message, id=f"{peer.id}-{message}")
    for peer in ALL_PEERS
    for message in echo_messages(peer)
]


@pytest.mark.parametrize("peer,message", ECHO_CASES)
def test_our_client_echoes(peer, message, peer_server, duplex):
    """RFC 6455 §5.6/§5.4, with permessage-deflate (RFC 7692) negotiated by default."""
    server = peer_server(peer)
    plan_id, url = server.plan_url(steps=[{"echo": message}], close={"code": 1000, "reason": "done"})
    cli = duplex("ws", url, "--echo")
    record = server.result(plan_id)
    assert_server_steps_passed(record)
    assert record["extensions"] == ["permessage-deflate"], record
    assert extensions_of(cli).startswith("permessage-deflate"), cli.describe()
    assert_client_echoed_close(record, 1000)
    cli.expect_closed(1000, "done")


ALL_MESSAGE_STEPS = [{"echo": name} for name in echo_messages(ALL_PEERS[0])] + [{"ping": "00ff"}]


@peers
def test_our_client_against_server_without_compression(peer, peer_server, duplex):
    """RFC 7692 §5: their server declines permessage-deflate; everything still echoes."""
    server = peer_server(peer, "--no-compression")
    plan_id, url = server.plan_url(steps=ALL_MESSAGE_STEPS, close={"code": 1000, "reason": ""})
    cli = duplex("ws", url, "--echo")
    record = server.result(plan_id)
    assert_server_steps_passed(record)
    assert record["extensions"] == [], record
    assert extensions_of(cli) == "-", cli.describe()
    assert_client_echoed_close(record, 1000)
    cli.expect_closed(1000)


@peers
def test_our_client_without_compression_offers_none(peer, peer_server, duplex):
    """`--no-compression`: no Sec-WebSocket-Extensions offer, so none is negotiated."""
    server = peer_server(peer)
    plan_id, url = server.plan_url(steps=ALL_MESSAGE_STEPS, close={"code": 1000, "reason": ""})
    cli = duplex("ws", url, "--echo", "--no-compression")
    record = server.result(plan_id)
    offered = [value for name, value in record["request_headers"] if name.lower() == "sec-websocket-extensions"]
    assert offered == [], record
    assert record["extensions"] == [], record
    assert extensions_of(cli) == "-", cli.describe()
    assert_server_steps_passed(record)
    cli.expect_closed(1000)


@peers
def test_our_client_answers_pings(peer, peer_server, duplex):
    """RFC 6455 §5.5.3: our client pongs with the ping's payload, also while idle."""
    server = peer_server(peer)
    steps = [{"ping": ""}, {"ping": b"duplex".hex()}, {"ping": bytes(range(125)).hex()}, {"echo": "text"}]
    plan_id, url = server.plan_url(steps=steps, close={"code": 1000, "reason": ""})
    cli = duplex("ws", url, "--echo")
    record = server.result(plan_id)
    assert_server_steps_passed(record)
    cli.expect_closed(1000)


CLOSE_CASES = [pytest.param(peer, code, id=f"{peer.id}-{code}") for peer in ALL_PEERS for code in CLOSE_CODES]


@pytest.mark.parametrize("peer,code", CLOSE_CASES)
def test_our_client_reports_server_close_code(peer, code, peer_server, duplex):
    """Exit 0 for 1000/1001, 6 otherwise; `closed code=C reason=R`; the close is echoed."""
    server = peer_server(peer)
    reason = f"bye {code} ✓"
    plan_id, url = server.plan_url(steps=[{"echo": "text"}], close={"code": code, "reason": reason})
    cli = duplex("ws", url, "--echo")
    record = server.result(plan_id)
    assert_server_steps_passed(record)
    assert_client_echoed_close(record, code)
    cli.expect_closed(code, reason)


@peers
def test_our_client_subprotocol_selected_by_server(peer, peer_server, duplex):
    """RFC 6455 §4.1: we offer `chat, superchat`; their server supports only superchat."""
    server = peer_server(peer, "--subprotocol", "superchat")
    plan_id, url = server.plan_url(steps=[{"echo": "text"}])
    cli = duplex("ws", url, "--echo", "--subprotocol", "chat", "--subprotocol", "superchat")
    record = server.result(plan_id)
    offered = [value for name, value in record["request_headers"] if name.lower() == "sec-websocket-protocol"]
    assert [item.strip() for value in offered for item in value.split(",")] == ["chat", "superchat"], record
    assert record["subprotocol"] == "superchat", record
    assert cli.connected is not None and cli.connected["subprotocol"] == "superchat", cli.describe()
    assert_server_steps_passed(record)
    cli.expect_closed(1000)


@peers
def test_our_client_subprotocol_without_overlap(peer, peer_server, duplex):
    """No common subprotocol: the legacy server continues without one; the new one answers 400."""
    server = peer_server(peer, "--subprotocol", "other")
    plan_id, url = server.plan_url(steps=[{"echo": "text"}])
    cli = duplex("ws", url, "--echo", "--subprotocol", "chat")
    if peer.impl == "legacy":
        record = server.result(plan_id)
        assert record["subprotocol"] is None, record
        assert cli.connected is not None and cli.connected["subprotocol"] == "-", cli.describe()
        cli.expect_closed(1000)
    else:
        cli.expect_error("handshakeRejected", "handshake", EXIT_HANDSHAKE, status=400)


@peers
def test_our_client_sends_headers_path_and_query(peer, peer_server, duplex):
    """`--header` adds request headers; the request target keeps path and query (RFC 6455 §3)."""
    server = peer_server(peer)
    plan_id, url = server.plan_url(steps=[{"echo": "text"}], query="room=1&x=%20y")
    cli = duplex("ws", url, "--echo", "--header", "X-Duplex-Test: value 1", "--header", "Authorization: Bearer t0k")
    record = server.result(plan_id)
    headers = {name.lower(): value for name, value in record["request_headers"]}
    assert headers.get("x-duplex-test") == "value 1", record
    assert headers.get("authorization") == "Bearer t0k", record
    assert headers.get("host") == f"127.0.0.1:{server.port}", record
    assert record["path"] == url.removeprefix(server.base_url), record
    cli.expect_closed(1000)


@peers
def test_our_client_enforces_max_message_size(peer, peer_server, duplex):
    """A message over --max-message-size fails the connection with 1009 (RFC 6455 §7.4.1)."""
    server = peer_server(peer)
    plan_id, url = server.plan_url(steps=[{"send": "two_kib_binary"}], close={"await": True})
    cli = duplex("ws", url, "--echo", "--max-message-size", "1024")
    record = server.result(plan_id)
    assert record["close"]["rcvd_code"] == 1009, record
    assert record["after_steps"]["unexpected_messages"] == [], record
    cli.expect_error("messageTooLarge", "protocolViolation", EXIT_PROTOCOL)
