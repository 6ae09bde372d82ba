"""Our Engine.IO client -> their server: `duplex eio URL --echo` against python-engineio.

python-engineio's AsyncServer runs as an ASGI app under uvicorn (Interop/peers/eio_server_asgi.py)
and attached to aiohttp (eio_server_aiohttp.py), in three releases:

- latest: the upgrade succeeds;
- 4.10.0: its server rejects every legitimate polling -> WebSocket upgrade (ASGI answers 403,
  aiohttp 400). DESIGN.md, "What users were bitten by" 2: our client must stay on polling and
  deliver everything, in order, exactly once;
- 4.10.1: the regression fixed, the session must end up on WebSocket.

Each session is driven by the plan in its URL (see eio_server_common.py): the server sends text
(ASCII and not), binary (with 0x1E inside) and empty messages, and a 100 kB text, our client
echoes each one back, and the server checks that it got exactly what it sent, in order. That
covers text and binary in both directions. The 100 kB size stays below the ~128 KiB at which
python-engineio's aiohttp driver truncates POST bodies (it reads them with a single
``StreamReader.read(length)``), a peer bug that no client can work around.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from pathlib import Path

import pytest

from harness.matrix import PEER_PROGRAMS_DIR, PEERS_DIR
from harness.processes import EXIT_OK, JSONRecords, ListeningProcess, ProcessCache

CONNECTED = re.compile(r"^connected sid=(?P<sid>\S+) transport=(?P<transport>\w+)$", re.M)
TRANSPORT_CHANGE = re.compile(r"^transport=(?P<transport>\w+)$", re.M)

VERSIONS = ["latest", "4.10.0", "4.10.1"]
MODES = ["asgi", "aiohttp"]
# The releases whose server accepts a legitimate upgrade.
UPGRADES_WORK = {"latest": True, "4.10.0": False, "4.10.1": True}

# duplex eio flags per client mode.
CLIENT_MODES = {
    "polling": ["--no-upgrade"],
    "websocket": ["--transport", "websocket"],
    "upgrade": [],
}

LARGE_TEXT = 100_000


def venv_python(version: str) -> Path:
    return PEERS_DIR / f"peer-engineio-{version}" / "bin" / "python"


class EngineIOPeerServer(ListeningProcess):
    """eio_server_{asgi,aiohttp}.py in a peer-engineio venv: one process serves many plans."""

    def __init__(self, version: str, mode: str, flags: tuple[str, ...] = ()) -> None:
        python = venv_python(version)
        if not python.exists():
            raise AssertionError(f"peer venv missing: {python} (run ./scripts/test to install it)")
        argv = [python, "-W", "ignore", PEER_PROGRAMS_DIR / f"eio_server_{mode}.py", *flags]
        super().__init__(argv, f"python-engineio {version} {mode} server {' '.join(flags)}")
        self._ids = itertools.count(1)
        self.records = JSONRecords(self.process)

    def plan_url(self, **plan) -> tuple[str, str]:
        plan_id = f"p{next(self._ids)}"
        plan = {"id": plan_id, **plan}
        token = base64.urlsafe_b64encode(json.dumps(plan).encode()).decode().rstrip("=")
        return plan_id, f"{self.base_url}/engine.io/?plan={token}"

    def result(self, plan_id: str, timeout: float = 30.0) -> dict:
        return self.records.take_id(plan_id, timeout)


@pytest.fixture(scope="module")
def _eio_servers():
    cache = ProcessCache(capacity=6)
    yield cache
    cache.close_all()


@pytest.fixture
def eio_server(_eio_servers):
    """eio_server(version, mode, *flags) -> a running python-engineio server (shared by tests)."""
    used: list[EngineIOPeerServer] = []

    def get(version: str, mode: str, *flags: str) -> EngineIOPeerServer:
        server = _eio_servers.get((version, mode, flags), lambda: EngineIOPeerServer(version, mode, flags))
        used.append(server)
        return server

    yield get
    for server in used:
        assert server.alive, f"the python-engineio server died during this test:\n{server.process.describe()}"


def transports_reported(cli) -> tuple[str, list[str]]:
    """(the transport of the `connected` line, the `transport=` changes), from our CLI's stderr."""
    connected = CONNECTED.search(cli.stderr)
    assert connected, f"no 'connected sid=... transport=...' line:\n{cli.describe()}"
    return connected["transport"], TRANSPORT_CHANGE.findall(cli.stderr)


def assert_everything_echoed(record: dict, cli) -> None:
    assert "error" not in record, f"{record}\n{cli.describe()}"
    assert record["ok"], f"the server did not get back exactly what it sent, in order: {record}\n{cli.describe()}"
    assert record["received"] == record["sent"], record


MATRIX = [
    pytest.param(version, mode, client_mode, id=f"eio-{version}-{mode}-{client_mode}")
    for version in VERSIONS
    for mode in MODES
    for client_mode in CLIENT_MODES
]


@pytest.mark.parametrize("version,mode,client_mode", MATRIX)
def test_our_client_echoes_in_order(version, mode, client_mode, eio_server, duplex):
    """protocol.md 4.1.3-4.1.7: text and binary both ways, many messages, in order, per transport mode."""
    server = eio_server(version, mode)
    # Between the two phases the server waits (up to 5 s) for the upgrade, so that the second
    # phase runs on the final transport: after the upgrade, or after it was refused.
    wait_upgrade = 5 if client_mode == "upgrade" else 0
    plan_id, url = server.plan_url(count=100, phases=2, wait_upgrade=wait_upgrade, large=LARGE_TEXT, timeout=20)
    cli = duplex("eio", url, "--echo", *CLIENT_MODES[client_mode], timeout=60)
    record = server.result(plan_id)
    assert_everything_echoed(record, cli)
    assert cli.returncode == EXIT_OK, cli.describe()
    assert "error:" not in cli.stderr, cli.describe()
    opened_with, changes = transports_reported(cli)
    if client_mode == "polling":
        assert (opened_with, changes) == ("polling", []), cli.describe()
        assert record["transport"] == "polling", record
    elif client_mode == "websocket":
        assert (opened_with, changes) == ("websocket", []), cli.describe()
        assert record["transport"] == "websocket", record
    elif UPGRADES_WORK[version]:
        # The upgrade must succeed: the session ends on WebSocket on both sides.
        assert (opened_with, changes) == ("polling", ["websocket"]), cli.describe()
        assert record["transport"] == "websocket", record
    else:
        # 4.10.0 refuses the upgrade: the client stays on polling and loses nothing.
        assert (opened_with, changes) == ("polling", []), cli.describe()
        assert record["transport"] == "polling", record


@pytest.mark.parametrize("mode,status", [("asgi", 403), ("aiohttp", 400)])
def test_refused_upgrade_is_logged_at_debug(mode, status, eio_server, duplex):
    """DESIGN.md "What users were bitten by" 2: python-engineio 4.10.0 refuses the upgrade; the
    client says why at debug level, and only there, and keeps working on polling."""
    server = eio_server("4.10.0", mode)
    plan_id, url = server.plan_url(count=20, phases=1)
    cli = duplex("eio", url, "--echo", "--log-level", "debug", timeout=60)
    assert_everything_echoed(server.result(plan_id), cli)
    assert cli.returncode == EXIT_OK, cli.describe()
    failure_lines = [line for line in cli.stderr.splitlines() if "upgrade failed, staying on polling" in line]
    assert len(failure_lines) == 1, cli.describe()
    assert " debug " in failure_lines[0] and f"HTTP {status}" in failure_lines[0], cli.describe()
    quiet = duplex("eio", server.plan_url(count=5, phases=1)[1], "--echo", "--log-level", "info", timeout=60)
    assert quiet.returncode == EXIT_OK, quiet.describe()
    assert "upgrade failed" not in quiet.stderr, quiet.describe()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("client_mode", ["polling", "upgrade"])
def test_our_client_answers_pings(mode, client_mode, eio_server, duplex):
    """protocol.md 4.1.6: the server pings every 0.3 s and drops the session after 0.5 s without a
    pong; the session must still be alive after 3 s."""
    server = eio_server("latest", mode, "--ping-interval", "0.3", "--ping-timeout", "0.5")
    plan_id, url = server.plan_url(count=10, phases=1, hold=3)
    cli = duplex("eio", url, "--echo", *CLIENT_MODES[client_mode], timeout=60)
    record = server.result(plan_id)
    assert_everything_echoed(record, cli)
    assert record.get("alive") is True, f"the server dropped the session: {record}\n{cli.describe()}"
    assert cli.returncode == EXIT_OK, cli.describe()


def test_connection_refused_is_reported(duplex):
    """The CLI's error contract: nothing listens -> code=connectionFailed, exit 3."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cli = duplex("eio", f"http://127.0.0.1:{port}/engine.io/", "--echo", timeout=30)
    assert cli.returncode == 3, cli.describe()
    assert re.search(r"^error: code=connectionFailed category=connection ", cli.stderr, re.M), cli.describe()
