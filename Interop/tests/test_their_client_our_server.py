"""Their client -> our server: websockets clients against `duplex ws-echo`.

The full core matrix (every pinned version x every implementation it ships): echo of
every message shape with and without permessage-deflate, ping/pong, every close code
a client may send, the server-initiated close, subprotocol negotiation, size limits.
"""

from __future__ import annotations

import pytest

from harness.matrix import ALL_PEERS, CLOSE_CODES, echo_messages, peer_ids

# Below websockets' close_timeout (5 s): a slower closing handshake means our server did
# not close the TCP connection after the close handshake (RFC 6455 §7.1.1).
CLOSE_DEADLINE = 2.5

peers = pytest.mark.parametrize("peer", ALL_PEERS, ids=peer_ids(ALL_PEERS), scope="module")


def assert_connected(result: dict) -> None:
    assert result["connected"], f"websockets could not connect: {result.get('connect_error')}"


def assert_steps_passed(result: dict) -> None:
    for step in result["steps"]:
        assert "exception" not in step, f"step {step['step']} failed: {step['exception']}\n{result}"
        if "sent" in step and "echo" in step["step"]:
            assert step["received"] == step["sent"], f"echo differs for {step['step']}: {step}"
        if "ping" in step["step"]:
            assert step.get("pong") is True, step


def assert_clean_close(result: dict, code: int) -> None:
    close = result["close"]
    assert "close_exception" not in result, result
    assert close["sent_code"] == code, result
    # RFC 6455 §5.5.1: the server answers a close frame with a close frame, echoing the code.
    assert close["rcvd_code"] == code, f"server answered close {code} with {close['rcvd_code']}: {result}"
    assert result["close_elapsed"] < CLOSE_DEADLINE, f"closing handshake too slow: {result}"


ECHO_CASES = [
    pytest.param(peer, message, id=f"{peer.id}-{message}")
    for peer in ALL_PEERS
    for message in echo_messages(peer)
]


@pytest.mark.parametrize("compression", [True, False], ids=["deflate", "no-compression"])
@pytest.mark.parametrize("peer,message", ECHO_CASES)
def test_echo_preserves_type_and_payload(peer, message, compression, echo_server, peer_client):
    """RFC 6455 §5.6 data frames and §5.4 fragmentation; RFC 7692 when compression is on."""
    result = peer_client(peer).run(echo_server().url + "/echo", steps=[{"echo": message}], compression=compression)
    assert_connected(result)
    if compression:
        # RFC 7692 §5: the server accepts the client's permessage-deflate offer.
        assert result["extensions"] == ["permessage-deflate"], result
        assert result["extensions_header"].startswith("permessage-deflate"), result
    else:
        assert result["extensions"] == [] and result["extensions_header"] is None, result
    assert_steps_passed(result)
    assert_clean_close(result, 1000)


@peers
def test_server_without_compression_declines_deflate(peer, echo_server, peer_client):
    """RFC 7692 §5: a server that does not accept the offer answers without the extension."""
    server = echo_server("--no-compression")
    steps = [{"echo": "text"}, {"echo": "large_text"}, {"echo": "fragmented_binary"}]
    result = peer_client(peer).run(server.url, steps=steps, compression=True)
    assert_connected(result)
    assert result["extensions"] == [] and result["extensions_header"] is None, result
    assert_steps_passed(result)
    assert_clean_close(result, 1000)


@peers
def test_ping_is_answered_with_pong(peer, echo_server, peer_client):
    """RFC 6455 §5.5.2-3: a Pong echoes the Ping's application data (empty, short, 125 bytes)."""
    steps = [{"ping": ""}, {"ping": b"duplex".hex()}, {"ping": bytes(range(125)).hex()}, {"echo": "text"}]
    result = peer_client(peer).run(echo_server().url, steps=steps)
    assert_connected(result)
    assert_steps_passed(result)
    assert_clean_close(result, 1000)


CLOSE_CASES = [pytest.param(peer, code, id=f"{peer.id}-{code}") for peer in ALL_PEERS for code in CLOSE_CODES]


@pytest.mark.parametrize("peer,code", CLOSE_CASES)
def test_client_close_code_is_echoed(peer, code, echo_server, peer_client):
    """RFC 6455 §5.5.1 / §7.4: the server echoes whatever valid close code the client sent."""
    result = peer_client(peer).run(echo_server().url, steps=[{"echo": "text"}],
                                   close={"code": code, "reason": f"reason {code} ✓"})
    assert_connected(result)
    assert_steps_passed(result)
    assert_clean_close(result, code)


@peers
def test_server_initiated_close(peer, echo_server, peer_client):
    """`close:4001:bye` makes the server start the closing handshake (RFC 6455 §7.1.2)."""
    result = peer_client(peer).run(echo_server().url, steps=[{"send_text": "close:4001:bye"}],
                                   close={"await": True})
    assert_connected(result)
    assert_steps_passed(result)
    close = result["close"]
    assert (close["rcvd_code"], close["rcvd_reason"]) == (4001, "bye"), result
    assert close["sent_code"] == 4001, result  # websockets echoes the code
    assert result["after_steps"]["unexpected_messages"] == [], result
    assert "close_exception" not in result, result
    assert result["close_elapsed"] < CLOSE_DEADLINE, f"server did not close TCP promptly: {result}"


SUBPROTOCOL_CASES = [
    # (server --subprotocol list, client offer, expected selection)
    pytest.param(["superchat"], ["chat", "superchat"], "superchat", id="overlap"),
    pytest.param(["superchat"], ["chat"], None, id="no-overlap"),
    pytest.param(["superchat", "chat"], ["chat", "superchat"], "chat", id="first-of-client-offer"),
    pytest.param(["superchat"], None, None, id="no-offer"),
    pytest.param([], ["chat"], None, id="server-has-none"),
]


@pytest.mark.parametrize("server_list,offer,expected", SUBPROTOCOL_CASES)
@peers
def test_subprotocol_negotiation(peer, server_list, offer, expected, echo_server, peer_client):
    """RFC 6455 §4.2.2 step 5.5 / §11.3.4: the server selects one of the client's offers or none."""
    flags = [flag for name in server_list for flag in ("--subprotocol", name)]
    result = peer_client(peer).run(echo_server(*flags).url, steps=[{"echo": "text"}], subprotocols=offer)
    assert_connected(result)
    assert result["subprotocol"] == expected, result
    assert_steps_passed(result)
    assert_clean_close(result, 1000)


@pytest.mark.parametrize("compression", [True, False], ids=["deflate", "no-compression"])
@peers
def test_message_at_limit_is_echoed_and_over_limit_closes_1009(peer, compression, echo_server, peer_client):
    """--max-message-size is inclusive; one byte more is answered with 1009 (RFC 6455 §7.4.1)."""
    server = echo_server("--max-message-size", "2048")
    at_limit = peer_client(peer).run(server.url, steps=[{"echo": "two_kib_binary"}], compression=compression)
    assert_connected(at_limit)
    assert_steps_passed(at_limit)
    assert_clean_close(at_limit, 1000)

    over = peer_client(peer).run(server.url, steps=[{"send": "two_kib_plus_one_binary"}], close={"await": True},
                                 compression=compression)
    assert_connected(over)
    assert over["close"]["rcvd_code"] == 1009, over
    assert over["after_steps"]["unexpected_messages"] == [], over


@peers
def test_decompressed_size_is_limited(peer, echo_server, peer_client):
    """RFC 7692 §8.1 / DESIGN: 1 MiB of repetitive text inflates past a 2 KiB limit -> 1009."""
    server = echo_server("--max-message-size", "2048")
    result = peer_client(peer).run(server.url, steps=[{"send": "large_text"}], close={"await": True})
    assert_connected(result)
    assert result["extensions"] == ["permessage-deflate"], result
    assert result["close"]["rcvd_code"] == 1009, result
