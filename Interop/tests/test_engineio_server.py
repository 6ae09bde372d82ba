"""Their client -> our server: unmodified python-engineio clients against `duplex eio-echo`.

- python-engineio (latest, Engine.IO v4): polling only, WebSocket only, polling + upgrade;
  text, binary and large messages both ways, 200 messages in order, a burst of 200 messages
  queued at once (the server sends at most 16 packets per polling response, the most
  python-engineio accepts), heartbeats.
- python-engineio 3.14.2 (Engine.IO v3, from the python-socketio 4.x venv): accepted with
  `--allow-eio3`, refused with `{"code":5,"message":"Unsupported protocol version"}` without.
- Raw HTTP: the handshake announces the CLI options, CORS allows any origin, and a failed
  upgrade is visible in one debug log line.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from harness.matrix import PEER_PROGRAMS_DIR, PEERS_DIR
from harness.processes import DuplexServer
from peers.raw_peers import RawClient, refused_upgrade

ENGINEIO_LATEST = PEERS_DIR / "peer-engineio-latest" / "bin" / "python"
ENGINEIO_V3 = PEERS_DIR / "peer-socketio-4" / "bin" / "python"  # python-engineio 3.14.2
PEER_TIMEOUT = 60.0

TRANSPORTS = {
    "polling": ("polling", "polling"),
    "websocket": ("websocket", "websocket"),
    # python-engineio upgrades right after the polling handshake when the server offers it.
    "upgrade": ("polling,websocket", "websocket"),
}

TEXT_OPCODE, CLOSE_OPCODE = 0x1, 0x8

ECHO_STEPS = [
    {"echo": "hello"},
    {"echo": "unicode: é € 😀"},
    {"echo_binary": "0001027f80feff"},
    {"large": 100_000},  # over polling: compressed (gzip) by the server, inflated by aiohttp
    {"ordered": 200},
    {"burst": 200},
]


@pytest.fixture(scope="module")
def _eio_servers(duplex_bin):
    servers: dict[tuple[str, ...], DuplexServer] = {}
    yield servers, duplex_bin
    for server in servers.values():
        server.stop()


@pytest.fixture
def eio_server(_eio_servers):
    """eio_server(*flags) -> a running `duplex eio-echo --log-level debug FLAGS...` (shared by the
    tests of this module).

    A test after which a server it used died fails: the server must survive every client.
    """
    servers, duplex_bin = _eio_servers
    used: list[DuplexServer] = []

    def get(*flags: str) -> DuplexServer:
        server = servers.get(flags)
        if server is None or not server.alive:
            server = servers[flags] = DuplexServer(duplex_bin, "eio-echo", ("--log-level", "debug", *flags))
        used.append(server)
        return server

    yield get
    for server in used:
        assert server.alive, f"duplex eio-echo died during this test:\n{server.process.describe()}"


def run_client(python: Path, server: DuplexServer, transports: str, steps: Sequence[dict]) -> dict:
    """Runs Interop/peers/eio_client.py once; returns its JSON report."""
    assert python.exists(), f"peer venv missing: {python}"
    argv = [str(python), "-W", "ignore", str(PEER_PROGRAMS_DIR / "eio_client.py"), "--url", server.url,
            "--transports", transports, "--steps", json.dumps(list(steps)), "--timeout", "20"]
    try:
        completed = subprocess.run(argv, capture_output=True, encoding="utf-8", errors="replace", timeout=PEER_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"eio_client.py did not finish in {PEER_TIMEOUT}s\n{server.process.describe()}") from exc
    lines = completed.stdout.strip().splitlines()
    assert completed.returncode == 0 and lines, (
        f"eio_client.py failed (exit {completed.returncode})\n--- stdout ---\n{completed.stdout}"
        f"--- stderr ---\n{completed.stderr[-4000:]}\n{server.process.describe()}")
    report = json.loads(lines[-1])
    report["_context"] = f"{' '.join(argv)}\n--- client stderr ---\n{completed.stderr[-3000:]}\n{server.process.describe()}"
    return report


def assert_steps_passed(report: dict) -> None:
    assert report["connected"], f"could not connect: {report.get('connect_error')}\n{report['_context']}"
    for step in report["steps"]:
        assert step["ok"], f"step {step['step']} failed: {step}\n{report['_context']}"


def raw_get(port: int, target: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", target, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


# MARK: - python-engineio latest (Engine.IO v4)


@pytest.mark.parametrize("mode", list(TRANSPORTS))
def test_latest_client_echo(mode, eio_server):
    """protocol.md 4.1.4/4.1.5/4.1.7: every message shape, in order, on every transport."""
    transports, expected_transport = TRANSPORTS[mode]
    report = run_client(ENGINEIO_LATEST, eio_server(), transports, ECHO_STEPS)
    assert_steps_passed(report)
    assert report["transport"] == expected_transport, report["_context"]
    for step in report["steps"]:
        # Text arrives as str and binary as bytes, whatever the transport.
        expected_types = ["bytes"] if step["step"] == "echo_binary" else ["str"]
        assert step["types"] == expected_types, step
    # python-engineio refuses a payload of more than 16 packets; none came.
    assert all(size <= 16 for size in report["batches"]), report["batches"]


def test_latest_client_burst_is_split_into_16_packet_polls(eio_server):
    """protocol.md 4.1.4: 200 messages queued at once reach the unmodified client in order,
    in polling responses of at most 16 packets (the cap was reached: the burst was queued)."""
    report = run_client(ENGINEIO_LATEST, eio_server(), "polling", [{"burst": 200}])
    assert_steps_passed(report)
    batches = report["steps"][0]["batches"]
    assert max(batches) == 16, f"the 16-packet cap was not exercised: {batches}"
    assert all(size <= 16 for size in batches), batches


@pytest.mark.parametrize("mode", list(TRANSPORTS))
@pytest.mark.parametrize("python", [ENGINEIO_LATEST, ENGINEIO_V3], ids=["v4", "v3"])
def test_heartbeat_keeps_the_session(python, mode, eio_server):
    """protocol.md 4.1.6 (v4: the server pings, the client pongs) and 4.1.9 (v3: the client
    pings, the server pongs): several heartbeats pass and the session survives."""
    transports, expected_transport = TRANSPORTS[mode]
    server = eio_server("--ping-interval", "300", "--ping-timeout", "3000", "--allow-eio3")
    report = run_client(python, server, transports, [{"hold": 1.5}])
    assert_steps_passed(report)
    assert report["transport"] == expected_transport, report["_context"]


# MARK: - python-engineio 3.14.2 (Engine.IO v3)


@pytest.mark.parametrize("mode", list(TRANSPORTS))
def test_v3_client_with_allow_eio3(mode, eio_server):
    """protocol.md 4.1.9: a v3 client works end to end when --allow-eio3 is on."""
    transports, expected_transport = TRANSPORTS[mode]
    report = run_client(ENGINEIO_V3, eio_server("--allow-eio3"), transports, ECHO_STEPS[:5] + [{"hold": 0.5}])
    assert report["version"].startswith("3."), report
    assert_steps_passed(report)
    assert report["transport"] == expected_transport, report["_context"]


def test_v3_client_polling_refused_without_allow_eio3(eio_server):
    """protocol.md 4.1.1: EIO=3 gets 400 with code 5; the v3 client reports that body."""
    server = eio_server()
    report = run_client(ENGINEIO_V3, server, "polling", [])
    assert not report["connected"], report
    error = report["connect_error"]
    assert error["type"] == "ConnectionError", report
    assert error["args"] == ["Unexpected status code 400 in server response",
                             {"code": 5, "message": "Unsupported protocol version"}], report


def test_v3_client_websocket_refused_without_allow_eio3(eio_server):
    """protocol.md 4.1.1: a v3 WebSocket is refused before the 101, with the same body."""
    server = eio_server()
    report = run_client(ENGINEIO_V3, server, "websocket", [])
    assert not report["connected"], report
    assert report["connect_error"]["type"] == "ConnectionError", report
    status, body = refused_upgrade(server.port, "/engine.io/?EIO=3&transport=websocket")
    assert status == 400
    assert json.loads(body) == {"code": 5, "message": "Unsupported protocol version"}


# MARK: - Raw HTTP


def test_handshake_announces_cli_options_and_allows_any_origin(eio_server):
    """protocol.md 4.1.3: the open packet carries --ping-interval, --ping-timeout, --max-payload."""
    server = eio_server("--ping-interval", "1234", "--ping-timeout", "567", "--max-payload", "4321")
    status, headers, body = raw_get(server.port, "/engine.io/?EIO=4&transport=polling",
                                    {"Origin": "https://somewhere.example"})
    assert status == 200
    assert headers["content-type"] == "text/plain; charset=UTF-8"
    assert headers["access-control-allow-origin"] == "https://somewhere.example"
    assert body.startswith(b"0{")
    handshake = json.loads(body[1:])
    assert handshake["upgrades"] == ["websocket"]
    assert (handshake["pingInterval"], handshake["pingTimeout"], handshake["maxPayload"]) == (1234, 567, 4321)
    assert len(handshake["sid"]) == 20


def test_failed_upgrade_is_one_log_line_and_the_session_stays_on_polling(eio_server):
    """protocol.md 4.1.7 step 5: a probe without `5` is closed after upgradeTimeout; the
    session goes on over polling, and the server logs why in one line."""
    server = eio_server("--upgrade-timeout", "300")
    _, _, body = raw_get(server.port, "/engine.io/?EIO=4&transport=polling")
    sid = json.loads(body[1:])["sid"]
    with RawClient(server.port, f"/engine.io/?EIO=4&transport=websocket&sid={sid}") as probe:
        assert probe.status == 101
        probe.send(TEXT_OPCODE, b"2probe")
        pong = probe.read_frame()
        assert pong is not None and pong.payload == b"3probe", pong
        closing = probe.read_frame()  # the server closes the probe after 300 ms
        assert closing is None or closing.opcode == CLOSE_OPCODE, closing
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("POST", f"/engine.io/?EIO=4&transport=polling&sid={sid}", body=b"4still polling",
                       headers={"Content-Type": "text/plain;charset=UTF-8"})
    assert connection.getresponse().read() == b"ok"
    connection.close()
    status, _, echoed = raw_get(server.port, f"/engine.io/?EIO=4&transport=polling&sid={sid}")
    assert (status, echoed) == (200, b"4still polling")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [line for line in server.process.stderr_text(200_000).splitlines()
                 if sid in line and "upgrade failed" in line]
        if lines:
            break
        time.sleep(0.05)
    assert len(lines) == 1, server.process.describe()
    assert "reason=The client did not complete the upgrade in time" in lines[0], lines[0]
