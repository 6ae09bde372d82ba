"""Fixtures of the interop suite.

DUPLEX_BIN (required) is the built `duplex` executable; scripts/test sets it from
`swift build --show-bin-path`. The peers run from the venvs under .venv-peers/ that
scripts/test installs; a missing venv is an error, never a skip.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from harness.matrix import ALL_PEERS, Peer
from harness.processes import (
    CLIResult,
    DuplexEchoServer,
    PeerClient,
    PeerServer,
    ProcessCache,
    run_duplex,
)


# The whole suite takes a few minutes; if a broken build makes every test wait for its
# timeouts, fail the remaining tests at once instead of running for hours.
TIME_BUDGET_SECONDS = float(os.environ.get("DUPLEX_INTEROP_BUDGET", "1200"))
_SESSION_STARTED = time.monotonic()


def pytest_configure(config: pytest.Config) -> None:
    value = os.environ.get("DUPLEX_BIN")
    if not value:
        raise pytest.UsageError("DUPLEX_BIN is not set: run ./scripts/test, or export the path of the duplex executable")
    path = Path(value)
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise pytest.UsageError(f"DUPLEX_BIN={value} is not an executable file")
    missing = [str(peer.python) for peer in ALL_PEERS if not peer.python.exists()]
    if missing:
        raise pytest.UsageError("peer venvs are missing (run ./scripts/test to install them): " + ", ".join(missing))


@pytest.fixture(autouse=True)
def _time_budget():
    spent = time.monotonic() - _SESSION_STARTED
    if spent > TIME_BUDGET_SECONDS:
        pytest.fail(f"interop time budget of {TIME_BUDGET_SECONDS:.0f}s exhausted ({spent:.0f}s spent); not run")


@pytest.fixture(scope="session")
def duplex_bin() -> Path:
    return Path(os.environ["DUPLEX_BIN"]).resolve()


@pytest.fixture(scope="session")
def _echo_servers():
    cache = ProcessCache(capacity=8)
    yield cache
    cache.close_all()


@pytest.fixture
def echo_server(duplex_bin, _echo_servers):
    """echo_server(*flags) -> a running `duplex ws-echo` with those flags (shared across tests).

    A test after which a server it used is no longer running fails: the server must
    survive whatever a peer sends it.
    """
    used: list[DuplexEchoServer] = []

    def get(*flags: str) -> DuplexEchoServer:
        server = _echo_servers.get(flags, lambda: DuplexEchoServer(duplex_bin, flags))
        used.append(server)
        return server

    yield get
    for server in used:
        if not server.alive:
            pytest.fail(f"duplex ws-echo died during this test:\n{server.process.describe()}")


@pytest.fixture(scope="session")
def _peer_clients():
    cache = ProcessCache(capacity=4)
    yield cache
    cache.close_all()


@pytest.fixture
def peer_client(_peer_clients):
    """peer_client(peer) -> the websockets client driver of that version/implementation."""

    def get(peer: Peer) -> PeerClient:
        return _peer_clients.get(peer, lambda: PeerClient(peer))

    return get


@pytest.fixture(scope="session")
def _peer_servers():
    cache = ProcessCache(capacity=6)
    yield cache
    cache.close_all()


@pytest.fixture
def peer_server(_peer_servers):
    """peer_server(peer, *flags) -> a running Interop/peers/ws_server.py (shared across tests)."""

    def get(peer: Peer, *flags: str) -> PeerServer:
        return _peer_servers.get((peer, flags), lambda: PeerServer(peer, flags))

    return get


@pytest.fixture
def duplex(duplex_bin):
    """duplex(*args, timeout=30, stdin=None) -> CLIResult of a finished `duplex` run."""

    def run(*args: str, timeout: float = 30.0, stdin: str | None = None) -> CLIResult:
        return run_duplex(duplex_bin, args, timeout=timeout, stdin=stdin)

    return run
