"""Socket.IO peers of the interop suite.

- Servers with the `duplex sio-echo` semantics (helpers/SOCKETIO_CONTRACT.md): our `duplex sio-echo`
  and the python-socketio 5.x reference (Interop/peers/sio_server_{asgi,aiohttp}.py), which also
  prints JSON records of what it saw (connects, refusals, events, disconnects with their reason).
- `run_sio_client`: Interop/peers/sio_client.py (unmodified python-socketio AsyncClients) running one
  script in a peer venv.
- `OurSocketIOClient`: `duplex connect URL --json --no-reconnect …`, driven line by line on stdin.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

from harness.matrix import PEER_PROGRAMS_DIR, PEERS_DIR
from harness.processes import DuplexServer, JSONRecords, LineProcess, ListeningProcess

SOCKETIO_LATEST = PEERS_DIR / "peer-socketio-latest" / "bin" / "python"  # python-socketio 5.x
SOCKETIO_V4 = PEERS_DIR / "peer-socketio-4" / "bin" / "python"  # python-socketio 4.6.1, Engine.IO v3

# Transport modes: python-socketio's `transports` list per mode, and the transport the session ends on.
TRANSPORTS = {
    "polling": ("polling", "polling"),
    "websocket": ("websocket", "websocket"),
    "upgrade": ("polling,websocket", "websocket"),  # python-socketio upgrades right after the handshake
}
# `duplex connect --transport` per mode.
OUR_CLIENT_TRANSPORTS = {"polling": "polling", "websocket": "websocket", "upgrade": "upgrade"}

PYTHON_SERVER_MODES = ("asgi", "aiohttp")
CLIENT_TIMEOUT = 10.0  # one wait inside a script
PROCESS_TIMEOUT = 90.0  # one whole sio_client.py run


def require(python: Path) -> Path:
    if not python.exists():
        raise AssertionError(f"peer venv missing: {python} (run ./scripts/test to install it)")
    return python


class PythonSocketIOServer(ListeningProcess):
    """sio_server_{asgi,aiohttp}.py in the peer-socketio-latest venv (shared by many tests)."""

    # python-engineio's server does not release a pending long-poll GET when the client closes the
    # session (only after pingInterval + pingTimeout), and its polling client's disconnect() waits for
    # that GET: with the defaults (25 s + 20 s) every polling client would take 45 s to leave. Short
    # values keep the reference quick (it is not under test).
    DEFAULT_FLAGS = ("--ping-interval", "1000", "--ping-timeout", "1500")

    def __init__(self, mode: str, flags: Sequence[str] = ()) -> None:
        self.mode = mode
        self.flags = tuple(flags)
        argv = [require(SOCKETIO_LATEST), "-W", "ignore", PEER_PROGRAMS_DIR / f"sio_server_{mode}.py",
                *self.DEFAULT_FLAGS, *flags]
        super().__init__(argv, f"python-socketio {mode} server {' '.join(flags)}")
        self.records = JSONRecords(self.process)

    @property
    def name(self) -> str:
        return f"python-{self.mode}"

    @property
    def url(self) -> str:
        return self.base_url

    def record(self, timeout: float = CLIENT_TIMEOUT, **fields) -> dict:
        """The first record (not yet taken) whose fields have these values."""
        return self.records.take(lambda r: all(r.get(k) == v for k, v in fields.items()), timeout,
                                 f"a server record with {fields}")


class DuplexSocketIOServer(DuplexServer):
    """`duplex sio-echo --host 127.0.0.1 --port 0 FLAGS...`; prints no records."""

    name = "duplex"
    records = None

    def __init__(self, duplex_bin: Path, flags: Sequence[str] = (), *, port: int = 0) -> None:
        super().__init__(duplex_bin, "sio-echo", flags, port=port)


class ClientReport:
    """The JSON report of one sio_client.py run, its steps looked up by label."""

    def __init__(self, report: dict, context: str) -> None:
        self.version: str = report["version"]
        self.steps: list[dict] = report["steps"]
        self.context = context

    def __getitem__(self, label: str) -> dict:
        matches = [step for step in self.steps if step.get("label") == label]
        assert len(matches) == 1, f"{len(matches)} steps labelled {label!r}"
        return matches[0]

    def ok(self, label: str) -> dict:
        """The result of step `label`, which must have succeeded."""
        step = self[label]
        assert step["ok"], f"step {label!r} failed: {step}\n{self.context}"
        return step

    def all_ok(self) -> None:
        for step in self.steps:
            assert step["ok"], f"step {step.get('label', step['step'])!r} failed: {step}\n{self.context}"


def run_sio_client(python: Path, url: str, mode: str, script: Sequence[dict], server=None) -> ClientReport:
    """Runs Interop/peers/sio_client.py once with `script` (see its docstring)."""
    transports = TRANSPORTS[mode][0]
    argv = [str(require(python)), "-W", "ignore", str(PEER_PROGRAMS_DIR / "sio_client.py"), "--url", url,
            "--transports", transports, "--script", json.dumps(list(script)), "--timeout", str(CLIENT_TIMEOUT)]
    server_context = server.process.describe() if server is not None else ""
    try:
        completed = subprocess.run(argv, capture_output=True, encoding="utf-8", errors="replace",
                                   timeout=PROCESS_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"sio_client.py did not finish in {PROCESS_TIMEOUT}s\n{server_context}") from None
    lines = completed.stdout.strip().splitlines()
    context = (f"$ {' '.join(argv)}\n--- client stderr ---\n{completed.stderr[-3000:]}\n"
               f"{server.process.describe() if server is not None else ''}")
    assert completed.returncode == 0 and lines, (
        f"sio_client.py failed (exit {completed.returncode})\n--- stdout ---\n{completed.stdout[-3000:]}\n{context}")
    return ClientReport(json.loads(lines[-1]), context)


class OurSocketIOClient:
    """`duplex connect URL --json --no-reconnect FLAGS...`: commands on stdin, JSON lines on stdout
    (without `--no-reconnect` when `reconnect`)."""

    def __init__(self, duplex_bin: Path, url: str, flags: Sequence[str] = (), *, reconnect: bool = False) -> None:
        self.argv = [duplex_bin, "connect", url, "--json", *([] if reconnect else ["--no-reconnect"]), *flags]
        self.process = LineProcess(self.argv, "duplex connect", stdin=True)
        self.records = JSONRecords(self.process, strict=True)

    def send(self, command: str) -> None:
        """One stdin command, e.g. `emit message 1 "two"`."""
        self.process.write_line(command)

    def expect(self, kind: str, timeout: float = CLIENT_TIMEOUT, **fields) -> dict:
        """The first output record (not yet taken) of type `kind` whose fields have these values."""
        return self.records.take(
            lambda r: r.get("type") == kind and all(r.get(k) == v for k, v in fields.items()), timeout,
            f"a {kind!r} record with {fields}")

    def expect_event(self, event: str, namespace: str = "/", timeout: float = CLIENT_TIMEOUT) -> dict:
        return self.expect("event", timeout, event=event, namespace=namespace)

    def call(self, event: str, *json_args: str, namespace: str = "/", timeout: float = CLIENT_TIMEOUT) -> dict:
        """`call EVENT ARGS…` in the current namespace; returns the `ack` record."""
        self.send(" ".join(["call", event, *json_args]))
        return self.expect("ack", timeout, event=event, namespace=namespace)

    def wait_exit(self, timeout: float = CLIENT_TIMEOUT) -> int:
        try:
            return self.process.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"duplex connect did not exit within {timeout}s: {self.describe()}") from None

    def quit(self, timeout: float = CLIENT_TIMEOUT) -> int:
        """`quit`, then the exit code."""
        if self.process.alive:
            try:
                self.send("quit")
            except (BrokenPipeError, OSError):
                pass
        self.process.close_stdin()
        return self.wait_exit(timeout)

    def describe(self) -> str:
        return f"{self.process.describe()}\n--- unconsumed stdout records ---\n{self.records.pending()}"

    @property
    def alive(self) -> bool:
        return self.process.alive

    def stop(self) -> None:
        self.process.stop()
