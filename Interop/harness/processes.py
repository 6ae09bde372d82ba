"""Child processes of the interop suite: the duplex CLI and the peer programs.

Every wait is bounded; every failure message carries the child's stderr, so a red test
says what the other side saw.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import queue
import re
import signal
import subprocess
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.matrix import PEER_PROGRAMS_DIR, Peer

# What every server of the suite prints once it accepts connections (duplex ws-echo: ws://,
# duplex eio-echo / sio-echo and the python-engineio / python-socketio peers: http://).
LISTENING = re.compile(r"^listening on (?P<scheme>ws|http)://(?P<host>[^\s:]+):(?P<port>\d+)$")
ERROR_LINE = re.compile(
    r"^error: code=(?P<code>\w+) category=(?P<category>\w+)(?: status=(?P<status>\d+))? message=(?P<message>.*)$"
)
CLOSED_LINE = re.compile(r"^closed code=(?P<code>\d+) reason=(?P<reason>.*)$")
CONNECTED_LINE = re.compile(r"^connected subprotocol=(?P<subprotocol>\S+) extensions=(?P<extensions>.*)$")

# The CLI's exit codes by outcome (the duplex CLI contract).
EXIT_OK = 0
EXIT_USAGE = 2
EXIT_CONNECTION = 3
EXIT_HANDSHAKE = 4
EXIT_PROTOCOL = 5
EXIT_CLOSED = 6

STARTUP_TIMEOUT = 60.0  # a cold debug binary or a fresh venv can be slow on a busy 2-core machine


class LineProcess:
    """A child whose stdout lines a thread collects; stderr goes to a temporary file."""

    def __init__(self, argv: Sequence[str | os.PathLike], name: str, *, stdin: bool = False) -> None:
        self.name = name
        self.argv = [str(arg) for arg in argv]
        self._stderr = tempfile.TemporaryFile()
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,  # a ^C to pytest must not reach the peers first
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def stderr_text(self, limit: int = 8000) -> str:
        self._stderr.flush()
        self._stderr.seek(0)
        data = self._stderr.read().decode("utf-8", errors="replace")
        return data if len(data) <= limit else "...\n" + data[-limit:]

    def describe(self) -> str:
        status = "running" if self.alive else f"exited with {self.proc.returncode}"
        return f"{self.name} ({status}): {' '.join(self.argv)}\n--- its stderr ---\n{self.stderr_text()}"

    def next_line(self, timeout: float) -> str:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no stdout line within {timeout}s from {self.describe()}") from None
        if line is None:
            self._lines.put(None)  # keep reporting EOF
            self.proc.wait(5)
            raise EOFError(f"stdout closed: {self.describe()}")
        return line

    def write_line(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def close_stdin(self) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()

    def stop(self) -> None:
        if self.alive:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.close_stdin()
        self._stderr.close()


class JSONRecords:
    """The JSON objects a child prints one per stdout line, taken by predicate in the order they
    came. Other lines are ignored, or, with `strict`, fail the test (a JSON-lines output contract)."""

    def __init__(self, process: LineProcess, *, strict: bool = False) -> None:
        self.process = process
        self.strict = strict
        self._pending: list[dict] = []

    def pending(self) -> list[dict]:
        """The records read but not taken yet, in order."""
        return list(self._pending)

    def _read_one(self, timeout: float) -> None:
        line = self.process.next_line(timeout)
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            record = None
        if isinstance(record, dict):
            self._pending.append(record)
        elif self.strict:
            raise AssertionError(f"not a JSON object on stdout: {line!r}\n{self.process.describe()}")

    def drain(self, seconds: float) -> list[dict]:
        """Reads whatever comes during `seconds` (or until stdout closes); returns all pending records."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                self._read_one(remaining)
            except (TimeoutError, EOFError):
                break
        return self.pending()

    def take(self, predicate: Callable[[dict], bool], timeout: float, what: str = "a record") -> dict:
        """Removes and returns the first record matching `predicate`, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            for index, record in enumerate(self._pending):
                if predicate(record):
                    return self._pending.pop(index)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{what} did not come within {timeout}s (unmatched: {self._pending[-20:]}) "
                                   f"from {self.process.describe()}")
            self._read_one(remaining)

    def take_id(self, record_id: str, timeout: float) -> dict:
        return self.take(lambda record: str(record.get("id")) == record_id, timeout, f"the record of {record_id}")


class ListeningProcess:
    """A server child that prints `listening on ws|http://HOST:PORT` once it accepts connections."""

    def __init__(self, argv: Sequence[str | os.PathLike], name: str) -> None:
        self.process = LineProcess(argv, name)
        try:
            line = self.process.next_line(STARTUP_TIMEOUT)
            match = LISTENING.match(line)
            if not match:
                raise AssertionError(f"expected 'listening on ws|http://HOST:PORT', got {line!r} from "
                                     f"{self.process.describe()}")
            self.scheme, self.host, self.port = match["scheme"], match["host"], int(match["port"])
        except BaseException:
            self.process.stop()
            raise

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process.alive

    def stop(self) -> None:
        self.process.stop()


class DuplexServer(ListeningProcess):
    """`duplex COMMAND --host 127.0.0.1 --port PORT FLAGS...` (ws-echo, eio-echo, sio-echo); PORT 0 by
    default (a free one), a given one to restart a server where its clients expect it."""

    def __init__(self, duplex_bin: Path, command: str, flags: Sequence[str] = (), *, port: int = 0) -> None:
        self.command = command
        self.flags = tuple(flags)
        super().__init__([duplex_bin, command, "--host", "127.0.0.1", "--port", str(port), *flags],
                         f"duplex {command}")

    @property
    def url(self) -> str:
        return self.base_url


class DuplexEchoServer(DuplexServer):
    """`duplex ws-echo --host 127.0.0.1 --port 0 FLAGS...`."""

    def __init__(self, duplex_bin: Path, flags: Sequence[str]) -> None:
        super().__init__(duplex_bin, "ws-echo", flags)


class PeerClient:
    """Interop/peers/ws_client.py in a peer venv: runs one command per call."""

    def __init__(self, peer: Peer) -> None:
        self.peer = peer
        argv = [peer.python, "-W", "ignore", PEER_PROGRAMS_DIR / "ws_client.py", "--impl", peer.impl]
        self.process = LineProcess(argv, f"websockets {peer.version} {peer.impl} client", stdin=True)
        self._ids = itertools.count(1)
        try:
            ready = json.loads(self.process.next_line(STARTUP_TIMEOUT))
            assert ready.get("version") == peer.version, f"peer venv runs websockets {ready}, expected {peer}"
        except BaseException:
            self.process.stop()
            raise

    @property
    def alive(self) -> bool:
        return self.process.alive

    def run(self, url: str, *, steps: Sequence[dict] = (), close: dict | None = None, compression: bool = True,
            subprotocols: Sequence[str] | None = None, timeout: float = 10.0, **extra) -> dict:
        command = {
            "id": next(self._ids),
            "url": url,
            "steps": list(steps),
            "close": close or {"code": 1000, "reason": ""},
            "compression": compression,
            "subprotocols": list(subprotocols) if subprotocols is not None else None,
            "timeout": timeout,
            **extra,
        }
        self.process.write_line(json.dumps(command))
        deadline = time.monotonic() + timeout * 4 + 20
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no result for {command} from {self.process.describe()}")
            result = json.loads(self.process.next_line(remaining))
            if result.get("id") == command["id"]:
                if "driver_exception" in result:
                    raise AssertionError(f"peer driver failed: {result}\n{self.process.describe()}")
                return result

    def stop(self) -> None:
        self.process.stop()


class PeerServer(ListeningProcess):
    """Interop/peers/ws_server.py in a peer venv: one process serves many plans."""

    def __init__(self, peer: Peer, flags: Sequence[str]) -> None:
        self.peer = peer
        argv = [peer.python, "-W", "ignore", PEER_PROGRAMS_DIR / "ws_server.py", "--impl", peer.impl, *flags]
        super().__init__(argv, f"websockets {peer.version} {peer.impl} server {' '.join(flags)}")
        self._ids = itertools.count(1)
        self.records = JSONRecords(self.process)

    def plan_url(self, *, steps: Sequence[dict] = (), close: dict | None = None, timeout: float = 10.0,
                 query: str = "") -> tuple[str, str]:
        """A URL whose path tells the server what to do; returns (plan id, url)."""
        plan_id = f"p{next(self._ids)}"
        plan = {"id": plan_id, "steps": list(steps), "close": close or {"code": 1000, "reason": ""},
                "timeout": timeout}
        token = base64.urlsafe_b64encode(json.dumps(plan).encode()).decode().rstrip("=")
        return plan_id, f"{self.base_url}/run/{token}{'?' + query if query else ''}"

    def status_url(self, status: int) -> str:
        return f"{self.base_url}/status/{status}"

    def result(self, plan_id: str, timeout: float = 20.0) -> dict:
        return self.records.take_id(plan_id, timeout)


class ProcessCache:
    """Long-lived helper processes by key, least recently used stopped beyond `capacity`."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple, object] = OrderedDict()

    def get(self, key: tuple, factory: Callable[[], object]):
        entry = self._entries.get(key)
        if entry is not None and not entry.alive:
            entry.stop()
            del self._entries[key]
            entry = None
        if entry is None:
            entry = factory()
            self._entries[key] = entry
            while len(self._entries) > self.capacity:
                _, evicted = self._entries.popitem(last=False)
                evicted.stop()
        self._entries.move_to_end(key)
        return entry

    def close_all(self) -> None:
        while self._entries:
            _, entry = self._entries.popitem()
            entry.stop()


@dataclass
class CLIResult:
    """A finished `duplex ws ...` run."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    elapsed: float

    def describe(self) -> str:
        return (f"$ {' '.join(self.argv)}\nexit {self.returncode} after {self.elapsed:.2f}s\n"
                f"--- stdout ---\n{self.stdout[-4000:]}--- stderr ---\n{self.stderr[-4000:]}")

    def _single(self, pattern: re.Pattern[str], what: str) -> dict[str, str] | None:
        matches = [m.groupdict() for line in self.stderr.splitlines() if (m := pattern.match(line))]
        assert len(matches) <= 1, f"more than one '{what}' line:\n{self.describe()}"
        return matches[0] if matches else None

    @property
    def error(self) -> dict[str, str] | None:
        return self._single(ERROR_LINE, "error:")

    @property
    def closed(self) -> dict[str, str] | None:
        return self._single(CLOSED_LINE, "closed")

    @property
    def connected(self) -> dict[str, str] | None:
        return self._single(CONNECTED_LINE, "connected")

    def expect_error(self, code: str, category: str, exit_code: int, status: int | None = None) -> None:
        error = self.error
        assert error is not None, f"no 'error: code=...' line on stderr:\n{self.describe()}"
        assert (error["code"], error["category"]) == (code, category), self.describe()
        if status is not None:
            assert error["status"] == str(status), f"expected status={status}:\n{self.describe()}"
        assert self.returncode == exit_code, f"expected exit {exit_code}:\n{self.describe()}"

    def expect_closed(self, code: int, reason: str | None = None) -> None:
        closed = self.closed
        assert closed is not None, f"no 'closed code=...' line on stderr:\n{self.describe()}"
        assert int(closed["code"]) == code, self.describe()
        if reason is not None:
            assert closed["reason"] == reason, self.describe()
        expected_exit = EXIT_OK if code in (1000, 1001) else EXIT_CLOSED
        assert self.returncode == expected_exit, f"expected exit {expected_exit}:\n{self.describe()}"
        assert self.error is None, f"unexpected error line:\n{self.describe()}"


def run_duplex(duplex_bin: Path, args: Sequence[str], *, timeout: float = 30.0, stdin: str | None = None) -> CLIResult:
    argv = [str(duplex_bin), *map(str, args)]
    started = time.monotonic()
    try:
        completed = subprocess.run(
            argv,
            input=stdin,
            stdin=subprocess.DEVNULL if stdin is None else None,
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        def text(value):
            return value.decode("utf-8", "replace") if isinstance(value, bytes) else (value or "")

        raise AssertionError(
            f"$ {' '.join(argv)}\ndid not exit within {timeout}s (killed)\n"
            f"--- stdout ---\n{text(exc.stdout)[-4000:]}--- stderr ---\n{text(exc.stderr)[-4000:]}"
        ) from None
    return CLIResult(argv, completed.returncode, completed.stdout, completed.stderr, time.monotonic() - started)
