"""`duplex ws` against servers that are not ready or not WebSocket servers.

Pins the documented failure table: each scenario surfaces one stable error code,
category and exit status (DESIGN.md "Errors"; the CLI contract). The case that bit
users elsewhere, a server closing before the status line, must be a handshake error,
never a bare EOF.
"""

from __future__ import annotations

import socket
import time

import pytest

from harness.matrix import FAILURE_PEERS, peer_ids
from harness.processes import EXIT_CONNECTION, EXIT_HANDSHAKE, EXIT_USAGE
from peers.raw_peers import RawServer


@pytest.mark.parametrize("status", [503, 403, 404])
@pytest.mark.parametrize("peer", FAILURE_PEERS, ids=peer_ids(FAILURE_PEERS), scope="module")
def test_rejected_upgrade_reports_status(peer, status, peer_server, duplex):
    """RFC 6455 §4.1: a status other than 101 fails the handshake; the status is reported."""
    server = peer_server(peer)
    cli = duplex("ws", server.status_url(status), "--echo")
    cli.expect_error("handshakeRejected", "handshake", EXIT_HANDSHAKE, status=status)


RAW_CASES = [
    # (server behaviour, extra CLI flags, expected code, category, exit, status)
    pytest.param("close_immediately", [], "invalidHandshakeResponse", "handshake", EXIT_HANDSHAKE, None,
                 id="closed-before-status-line"),
    pytest.param("truncated_status", [], "invalidHandshakeResponse", "handshake", EXIT_HANDSHAKE, None,
                 id="closed-inside-status-line"),
    pytest.param("headers_then_close", [], "invalidHandshakeResponse", "handshake", EXIT_HANDSHAKE, None,
                 id="closed-inside-headers"),
    pytest.param("bad_accept", [], "invalidHandshakeResponse", "handshake", EXIT_HANDSHAKE, None,
                 id="wrong-accept-key"),
    pytest.param("no_upgrade_header", [], "invalidHandshakeResponse", "handshake", EXIT_HANDSHAKE, None,
                 id="101-without-upgrade-header"),
    pytest.param("reset_immediately", [], "invalidHandshakeResponse", "handshake", EXIT_HANDSHAKE, None,
                 id="reset-before-status-line"),
    pytest.param("status_200", [], "handshakeRejected", "handshake", EXIT_HANDSHAKE, 200, id="plain-http-200"),
    pytest.param("huge_headers", [], "headersTooLarge", "handshake", EXIT_HANDSHAKE, None, id="1MiB-of-headers"),
    pytest.param("unoffered_extension", ["--no-compression"], "negotiationFailed", "handshake", EXIT_HANDSHAKE,
                 None, id="extension-not-offered"),
    pytest.param("unoffered_subprotocol", ["--subprotocol", "chat"], "negotiationFailed", "handshake",
                 EXIT_HANDSHAKE, None, id="subprotocol-not-offered"),
]


@pytest.mark.parametrize("behaviour,flags,code,category,exit_code,status", RAW_CASES)
def test_broken_handshake_response(behaviour, flags, code, category, exit_code, status, duplex):
    """RFC 6455 §4.1, the client's checks of the server's opening handshake."""
    with RawServer(behaviour) as server:
        cli = duplex("ws", server.url, "--echo", *flags, timeout=20)
    cli.expect_error(code, category, exit_code, status=status)


def test_server_that_never_answers_times_out(duplex):
    """--open-timeout bounds TCP + HTTP upgrade: openingTimedOut, exit 3."""
    with RawServer("silent") as server:
        started = time.monotonic()
        cli = duplex("ws", server.url, "--echo", "--open-timeout", "1", timeout=20)
        elapsed = time.monotonic() - started
    cli.expect_error("openingTimedOut", "connection", EXIT_CONNECTION)
    assert 0.9 <= elapsed < 6, f"timed out after {elapsed:.2f}s, expected about 1s:\n{cli.describe()}"
    assert len(server.connections) == 1, "the client never reached the server"


def test_nothing_listening_is_connection_failed(duplex):
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cli = duplex("ws", f"ws://127.0.0.1:{port}/", "--echo", timeout=20)
    cli.expect_error("connectionFailed", "connection", EXIT_CONNECTION)


@pytest.mark.parametrize("url", ["not a url", "http://127.0.0.1:1/", "ftp://127.0.0.1/x", "ws://"])
def test_invalid_url_exits_2(url, duplex):
    """invalidURL is in category `connection` but is a usage error for the CLI: exit 2."""
    cli = duplex("ws", url, "--echo", timeout=20)
    cli.expect_error("invalidURL", "connection", EXIT_USAGE)
