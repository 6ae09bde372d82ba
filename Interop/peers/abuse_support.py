"""Support of the abuse suite (Interop/tests/test_abuse_*.py, scripts/soak): standard library only.

- ``ServerUnderTest``: a `duplex ws-echo|eio-echo|sio-echo` child whose memory (VmRSS) and open
  file descriptors are read from /proc.
- ``ResourceMonitor``: samples a server's VmRSS and fd count every 50 ms (peaks).
- ``WebSocketCanary`` / ``EngineIOCanary``: a background thread that keeps one connection doing an
  echo round trip every 50 ms and records every latency and the first failure.
- ``guarded``: the frame of every abuse case: baseline, canary, monitor, then the checks that
  the canary never failed, its latency stayed bounded and the server's fds and memory returned
  near the baseline.
- Raw WebSocket / Engine.IO / HTTP helpers on blocking sockets and on asyncio streams.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import resource
import socket
import statistics
import struct
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from peers.raw_peers import accept_key, frame, parse_frames, read_head, parse_headers, upgrade_request

LISTENING = re.compile(r"^listening on (?:ws|http)://(?P<host>[^\s:]+):(?P<port>\d+)$")
STARTUP_TIMEOUT = 60.0

TEXT, BINARY, CLOSE, PING, PONG, CONTINUATION = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0
EIO_PATH = "/engine.io/"

# The handshake timeout the abuse servers run with (`--handshake-timeout`), short so that slowloris
# and half-open cases end in seconds. Seconds for ws-echo, milliseconds for eio-echo.
HANDSHAKE_TIMEOUT = 2.0
MAX_MESSAGE = 1 << 20  # ws-echo --max-message-size: 1 MiB, so that "over the limit" is cheap to send
WS_FLAGS = ("--handshake-timeout", f"{HANDSHAKE_TIMEOUT:g}", "--max-message-size", str(MAX_MESSAGE))
WS_PLAIN_FLAGS = (*WS_FLAGS, "--no-compression")
# A short heartbeat, so that abandoned sessions end (and free their resources) within a case; the
# timeout exceeds CANARY_MAX_LATENCY, so a canary that is merely slow keeps its session.
EIO_MAX_PAYLOAD = 100_000
EIO_FLAGS = ("--handshake-timeout", f"{HANDSHAKE_TIMEOUT * 1000:.0f}", "--ping-interval", "1000",
             "--ping-timeout", "4000", "--max-payload", str(EIO_MAX_PAYLOAD))

# The worst canary round trip allowed. The debug build parses a 64 KiB read of tiny frames in
# ~0.2 s of CPU and NIO handles up to 4 reads of one channel per loop turn, so a flood can delay
# the other channels of its event loop by ~1 s of CPU; a loaded 2-core machine stretches that.
# A slower round trip means the server stopped serving others during the abuse.
CANARY_MAX_LATENCY = 3.0

# Where the suite writes one JSON line of figures per case (read by whoever runs it, e.g. for a report).
REPORT_PATH = os.environ.get("DUPLEX_ABUSE_REPORT")


# MARK: - Resources of a process


@dataclass(frozen=True)
class Resources:
    rss_kib: int
    fds: int

    def __str__(self) -> str:
        return f"rss={self.rss_kib / 1024:.1f}MiB fds={self.fds}"


def read_resources(pid: int) -> Resources:
    """VmRSS (KiB) from /proc/PID/status and the number of entries of /proc/PID/fd."""
    rss = 0
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
                break
    return Resources(rss, len(os.listdir(f"/proc/{pid}/fd")))


class ResourceMonitor:
    """Samples a process every `interval` seconds in a thread; keeps the peaks."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_rss_kib = 0
        self.peak_fds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="resource-monitor")

    def __enter__(self) -> "ResourceMonitor":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        try:
            now = read_resources(self.pid)
        except (FileNotFoundError, ProcessLookupError):
            return
        self.peak_rss_kib = max(self.peak_rss_kib, now.rss_kib)
        self.peak_fds = max(self.peak_fds, now.fds)


# MARK: - The server


class ServerUnderTest:
    """`duplex COMMAND --host 127.0.0.1 --port 0 FLAGS...`, waited for until it listens."""

    def __init__(self, duplex_bin: Path, command: str, flags: Sequence[str] = ()) -> None:
        from harness.processes import LineProcess  # the interop harness (not needed by scripts/soak)

        self.command = command
        self.flags = tuple(flags)
        argv = [duplex_bin, command, "--host", "127.0.0.1", "--port", "0", *flags]
        self.process = LineProcess(argv, f"duplex {command}")
        try:
            line = self.process.next_line(STARTUP_TIMEOUT)
            match = LISTENING.match(line)
            if not match:
                raise AssertionError(f"expected 'listening on ...://HOST:PORT', got {line!r}: {self.process.describe()}")
            self.host, self.port = match["host"], int(match["port"])
        except BaseException:
            self.process.stop()
            raise

    @property
    def pid(self) -> int:
        return self.process.proc.pid

    @property
    def alive(self) -> bool:
        return self.process.alive

    def resources(self) -> Resources:
        return read_resources(self.pid)

    def describe(self) -> str:
        return self.process.describe()

    def stop(self) -> None:
        self.process.stop()


# MARK: - Canaries


class CanaryFailure(AssertionError):
    pass


class _Canary:
    """A thread doing an echo round trip every `period` seconds over one connection."""

    kind = "canary"

    def __init__(self, port: int, *, period: float = 0.05, timeout: float = 10.0) -> None:
        self.port = port
        self.period = period
        self.timeout = timeout
        self.latencies: list[float] = []
        self.failure: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=self.kind)
        self.sock: socket.socket | None = None
        self._buffer = b""

    def __enter__(self):
        self._connect()
        self._thread.start()
        # One round trip before the abuse starts, so a broken canary is not blamed on the case.
        deadline = time.monotonic() + self.timeout
        while not self.latencies and self.failure is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self.latencies:
            self.stop()
            raise CanaryFailure(f"the {self.kind} never completed a round trip: {self.failure}")
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(self.timeout + 5)
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.close()

    def _run(self) -> None:
        counter = 0
        try:
            while not self._stop.is_set():
                counter += 1
                payload = f"{self.kind}-{counter}"
                started = time.perf_counter()
                self._round_trip(payload)
                self.latencies.append(time.perf_counter() - started)
                self._stop.wait(self.period)
        except Exception as exc:  # any failure of the canary is a failure of the case
            self.failure = f"round trip {counter} failed after {len(self.latencies)} good ones: {exc!r}"

    # WebSocket plumbing shared by both canaries.

    def _open_websocket(self, path: str) -> None:
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(upgrade_request(path, key=key))
        head, self._buffer = read_head(self.sock)
        status_line, headers = parse_headers(head)
        if " 101 " not in status_line + " " or headers.get("sec-websocket-accept") != accept_key(key):
            raise CanaryFailure(f"{self.kind}: upgrade refused: {head!r}")

    def _send(self, opcode: int, payload: bytes) -> None:
        assert self.sock is not None
        self.sock.sendall(frame(opcode, payload, mask=os.urandom(4)))

    def _read_frame(self):
        assert self.sock is not None
        while True:
            frames = parse_frames(self._buffer)
            if frames:
                self._buffer = self._buffer[frames[0].size:]
                return frames[0]
            chunk = self.sock.recv(65536)
            if not chunk:
                raise CanaryFailure(f"{self.kind}: the server closed the connection")
            self._buffer += chunk

    def wait_for_round_trips(self, count: int, timeout: float) -> None:
        """Waits until `count` more round trips completed (the server still serves after the abuse)."""
        target = len(self.latencies) + count
        deadline = time.monotonic() + timeout
        while len(self.latencies) < target and self.failure is None and time.monotonic() < deadline:
            time.sleep(0.01)

    def check(self, *, max_latency: float, min_round_trips: int = 5) -> dict:
        """Fails on any canary failure, a round trip slower than `max_latency`, or too few round trips."""
        if self.failure is not None:
            raise CanaryFailure(f"{self.kind} failed: {self.failure}")
        if len(self.latencies) < min_round_trips:
            raise CanaryFailure(f"{self.kind} did only {len(self.latencies)} round trips (< {min_round_trips})")
        worst = max(self.latencies)
        if worst > max_latency:
            raise CanaryFailure(
                f"{self.kind} latency {worst * 1000:.0f} ms > {max_latency * 1000:.0f} ms "
                f"(median {statistics.median(self.latencies) * 1000:.1f} ms over {len(self.latencies)} round trips)")
        return self.summary()

    def summary(self) -> dict:
        if not self.latencies:
            return {"round_trips": 0}
        ordered = sorted(self.latencies)
        return {
            "round_trips": len(ordered),
            "median_ms": round(statistics.median(ordered) * 1000, 1),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1),
        }


class WebSocketCanary(_Canary):
    """Echo round trips over one WebSocket of `duplex ws-echo`."""

    kind = "ws-canary"

    def _connect(self) -> None:
        self._open_websocket("/canary")

    def _round_trip(self, payload: str) -> None:
        self._send(TEXT, payload.encode())
        while True:
            parsed = self._read_frame()
            if parsed.opcode == PONG:
                continue
            if parsed.opcode == PING:
                self._send(PONG, parsed.payload)
                continue
            if (parsed.opcode, parsed.payload) != (TEXT, payload.encode()):
                raise CanaryFailure(f"expected the echo of {payload!r}, got {parsed}")
            return


class EngineIOCanary(_Canary):
    """Echo round trips over one Engine.IO v4 session on WebSocket (`duplex eio-echo`); answers pings."""

    kind = "eio-canary"

    def _connect(self) -> None:
        self._open_websocket(f"{EIO_PATH}?EIO=4&transport=websocket")
        opened = self._read_frame()
        if opened.opcode != TEXT or not opened.payload.startswith(b"0{"):
            raise CanaryFailure(f"expected the open packet, got {opened}")

    def _round_trip(self, payload: str) -> None:
        self._send(TEXT, b"4" + payload.encode())
        while True:
            parsed = self._read_frame()
            if parsed.opcode == TEXT and parsed.payload == b"2":
                self._send(TEXT, b"3")  # engine.io-protocol v4: the client answers the server's ping
                continue
            if (parsed.opcode, parsed.payload) != (TEXT, b"4" + payload.encode()):
                raise CanaryFailure(f"expected the echo of {payload!r}, got {parsed}")
            return


class SocketIOCanary(_Canary):
    """Round trips of `message` -> `message-back` over one Socket.IO v5 socket on WebSocket
    (`duplex sio-echo`, namespace `/`); answers pings and skips other events."""

    kind = "sio-canary"

    def _connect(self) -> None:
        self._open_websocket("/socket.io/?EIO=4&transport=websocket")
        opened = self._read_frame()
        if opened.opcode != TEXT or not opened.payload.startswith(b"0{"):
            raise CanaryFailure(f"expected the open packet, got {opened}")
        self._send(TEXT, b"40")
        while not self._next_packet().startswith(b"40"):
            pass

    def _next_packet(self) -> bytes:
        while True:
            parsed = self._read_frame()
            if parsed.opcode == CLOSE:
                raise CanaryFailure(f"{self.kind}: closed by the server: {parsed}")
            if parsed.opcode == TEXT and parsed.payload == b"2":
                self._send(TEXT, b"3")
                continue
            return parsed.payload

    def _round_trip(self, payload: str) -> None:
        self._send(TEXT, b"42" + json.dumps(["message", payload]).encode())
        while True:
            packet = self._next_packet()
            if packet.startswith(b"42") and json.loads(packet[2:]) == ["message-back", payload]:
                return
            if not packet.startswith(b"42"):
                raise CanaryFailure(f"expected the echo of {payload!r}, got {packet[:80]!r}")


def raise_fd_limit(needed: int) -> int:
    """Raises the soft RLIMIT_NOFILE (inherited by servers started later) to cover `needed`,
    within the hard limit; returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    ceiling = hard if hard != resource.RLIM_INFINITY else 1 << 16
    if soft < needed:
        soft = min(ceiling, max(needed, 1 << 14))
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


class ServerCache:
    """Servers by (command, flags), started on first use and shared by the tests of a module."""

    def __init__(self, duplex_bin: Path) -> None:
        raise_fd_limit(8192)  # the half-open and storm cases hold thousands of connections
        self.duplex_bin = duplex_bin
        self._servers: dict[tuple, ServerUnderTest] = {}

    def get(self, command: str = "ws-echo", *flags: str) -> ServerUnderTest:
        flags = flags or (WS_FLAGS if command == "ws-echo" else EIO_FLAGS)
        entry = self._servers.get((command, flags))
        if entry is None or not entry.alive:
            entry = self._servers[(command, flags)] = ServerUnderTest(self.duplex_bin, command, flags)
        return entry

    def stop_all(self) -> None:
        for entry in self._servers.values():
            entry.stop()
        self._servers.clear()


def canary_for(server: ServerUnderTest, **options) -> _Canary:
    kinds = {"ws-echo": WebSocketCanary, "eio-echo": EngineIOCanary, "sio-echo": SocketIOCanary}
    return kinds[server.command](server.port, **options)


# MARK: - The frame of a case


@dataclass
class Bounds:
    """What a case allows the server. Every test states (and justifies) its own numbers."""

    rss_growth_mib: float  # VmRSS after the case (settled) minus before
    fd_slack: int = 2  # fds after the case minus before (connections still closing when sampled)
    max_canary_latency: float = CANARY_MAX_LATENCY  # seconds, worst canary round trip
    settle_seconds: float = 15.0  # time allowed for fds to return near the baseline after the abuse
    min_round_trips: int = 3  # round trips the canary must complete after the abuse ended


@dataclass
class CaseRecord:
    name: str
    before: Resources | None = None
    after: Resources | None = None
    peak_rss_kib: int = 0
    peak_fds: int = 0
    canary: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    def line(self) -> str:
        return json.dumps({
            "case": self.name,
            "rss_before_mib": round(self.before.rss_kib / 1024, 1) if self.before else None,
            "rss_peak_mib": round(self.peak_rss_kib / 1024, 1),
            "rss_after_mib": round(self.after.rss_kib / 1024, 1) if self.after else None,
            "fds_before": self.before.fds if self.before else None,
            "fds_peak": self.peak_fds,
            "fds_after": self.after.fds if self.after else None,
            "canary": self.canary,
            **self.extra,
        })


def wait_for_fds(server: ServerUnderTest, at_most: int, seconds: float) -> Resources:
    deadline = time.monotonic() + seconds
    while True:
        now = server.resources()
        if now.fds <= at_most or time.monotonic() >= deadline:
            return now
        time.sleep(0.1)


@contextlib.contextmanager
def guarded(server: ServerUnderTest, name: str, bounds: Bounds, *, canary: bool = True) -> Iterator[CaseRecord]:
    """Runs the body with a canary and a monitor, then checks the bounds.

    The baseline is taken with the canary connected, so its own fd does not count as growth.
    """
    record = CaseRecord(name)
    with contextlib.ExitStack() as stack:
        keeper = stack.enter_context(canary_for(server)) if canary else None
        record.before = server.resources()
        monitor = stack.enter_context(ResourceMonitor(server.pid))
        try:
            yield record
        finally:
            monitor.sample()
            record.peak_rss_kib, record.peak_fds = monitor.peak_rss_kib, monitor.peak_fds
            if keeper is not None:
                record.canary = keeper.summary()
        assert server.alive, f"the server died during {name}:\n{server.describe()}"
        # The canary keeps running while the server settles: it must also survive the cleanup.
        record.after = wait_for_fds(server, record.before.fds + bounds.fd_slack, bounds.settle_seconds)
        if keeper is not None:
            keeper.wait_for_round_trips(bounds.min_round_trips, timeout=bounds.min_round_trips * (bounds.max_canary_latency + 0.05))
            keeper.stop()
            record.canary = keeper.check(max_latency=bounds.max_canary_latency, min_round_trips=bounds.min_round_trips)
    _report(record)
    growth_mib = (record.after.rss_kib - record.before.rss_kib) / 1024
    assert record.after.fds <= record.before.fds + bounds.fd_slack, (
        f"{name}: fds did not return near the baseline within {bounds.settle_seconds}s: {record.line()}")
    assert growth_mib <= bounds.rss_growth_mib, (
        f"{name}: VmRSS grew by {growth_mib:.1f} MiB (> {bounds.rss_growth_mib} MiB): {record.line()}")


def _report(record: CaseRecord) -> None:
    line = record.line()
    print(line)
    if REPORT_PATH:
        with open(REPORT_PATH, "a", encoding="utf-8") as report:
            report.write(line + "\n")


# MARK: - Raw clients (blocking sockets)


def mask_payload(payload: bytes, key: bytes) -> bytes:
    """RFC 6455 §5.3 masking without a per-byte Python loop (payloads here reach megabytes)."""
    if not payload:
        return b""
    repeated = (key * (len(payload) // 4 + 1))[: len(payload)]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(repeated, "little")).to_bytes(len(payload), "little")


def client_frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0, masked: bool = True,
                 length: int | None = None) -> bytes:
    """A client frame; `rsv` is the 3 RSV bits (0b100 = RSV1); `length` overrides the declared length."""
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    declared = len(payload) if length is None else length
    mask_bit = 0x80 if masked else 0
    if declared < 126:
        head = struct.pack("!BB", first, mask_bit | declared)
    elif declared < 1 << 16:
        head = struct.pack("!BBH", first, mask_bit | 126, declared)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, declared)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + mask_payload(payload, key)


class WebSocketPeer:
    """A raw client WebSocket (blocking socket): a valid upgrade, then whatever a test writes."""

    def __init__(self, port: int, path: str = "/", *, extra: Sequence[tuple[str, str]] = (), timeout: float = 10.0) -> None:
        self.key = base64.b64encode(os.urandom(16)).decode()
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # frames go out as written
        self.sock.sendall(upgrade_request(path, key=self.key, extra=list(extra)))
        head, self._buffer = read_head(self.sock)
        self.status_line, self.headers = parse_headers(head)
        self.status = int(self.status_line.split(" ", 2)[1]) if self.status_line.startswith("HTTP/") else 0
        self.head = head

    def __enter__(self) -> "WebSocketPeer":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send(self, opcode: int, payload: bytes = b"", **options) -> None:
        self.sock.sendall(client_frame(opcode, payload, **options))

    def read_frame(self):
        """The next complete frame, or None when the server closed TCP (or reset it)."""
        while True:
            frames = parse_frames(self._buffer)
            if frames:
                self._buffer = self._buffer[frames[0].size:]
                return frames[0]
            try:
                chunk = self.sock.recv(1 << 20)
            except ConnectionResetError:
                return None
            if not chunk:
                return None
            self._buffer += chunk

    def read_until_closed(self) -> list:
        frames = []
        while (parsed := self.read_frame()) is not None:
            frames.append(parsed)
        return frames

    def close_code_received(self) -> int | None:
        """Reads until TCP closes; the code of the first close frame (None if there was none)."""
        closes = [parsed for parsed in self.read_until_closed() if parsed.opcode == CLOSE]
        return closes[0].close_code if closes else None


def eio_websocket(port: int, query: str = "EIO=4&transport=websocket") -> WebSocketPeer:
    return WebSocketPeer(port, f"{EIO_PATH}?{query}")


@dataclass
class HTTPResult:
    status: int
    headers: dict[str, str]
    body: bytes


def http_request(port: int, method: str, target: str, body: bytes = b"", *, headers: dict[str, str] | None = None,
                 timeout: float = 10.0) -> HTTPResult:
    """One request on its own connection (`Connection: close`); reads the whole response."""
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    merged = {"Content-Length": str(len(body))} if method in ("POST", "PUT") else {}
    merged.update(headers or {})
    lines += [f"{name}: {value}" for name, value in merged.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            sock.sendall(request)
        data = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    if not head:
        raise ConnectionError(f"no HTTP response to {method} {target}")
    status_line, parsed = parse_headers(head)
    return HTTPResult(int(status_line.split(" ", 2)[1]), parsed, rest)


def eio_polling_handshake(port: int) -> str:
    """Opens an Engine.IO v4 polling session; returns its sid."""
    answer = http_request(port, "GET", f"{EIO_PATH}?EIO=4&transport=polling")
    assert answer.status == 200 and answer.body.startswith(b"0{"), answer
    return json.loads(answer.body[1:])["sid"]


def eio_websocket_session(port: int) -> tuple[WebSocketPeer, str]:
    """Opens an Engine.IO v4 session over WebSocket; returns the socket (open packet read) and the sid."""
    peer = eio_websocket(port)
    assert peer.status == 101, peer.head
    opened = peer.read_frame()
    assert opened is not None and opened.payload.startswith(b"0{"), opened
    return peer, json.loads(opened.payload[1:])["sid"]


def eio_echo_over_websocket(peer: WebSocketPeer, text: str) -> None:
    """Sends a message packet and waits for its echo, answering pings on the way."""
    peer.send(TEXT, b"4" + text.encode())
    while True:
        parsed = peer.read_frame()
        assert parsed is not None, "the server closed the Engine.IO WebSocket"
        if parsed.payload == b"2":
            peer.send(TEXT, b"3")
            continue
        assert (parsed.opcode, parsed.payload) == (TEXT, b"4" + text.encode()), parsed
        return


# MARK: - Many connections (asyncio)


class Refused(ConnectionError):
    """The server refused a new connection cleanly: TCP refused or reset, closed, or a non-101
    answer, all before the upgrade completed."""


async def ws_open_async(port: int, path: str = "/", *, timeout: float = 10.0,
                        extra: Sequence[tuple[str, str]] = ()) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    """Connects and upgrades; returns (reader, writer, b""). Raises ``Refused`` for a clean refusal."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    except (ConnectionRefusedError, ConnectionResetError) as error:
        raise Refused(f"connect: {error!r}") from error
    key = base64.b64encode(os.urandom(16)).decode()
    try:
        writer.write(upgrade_request(path, key=key, extra=list(extra)))
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    except (ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError) as error:
        writer.close()
        raise Refused(f"before the 101: {error!r}") from error
    status_line, headers = parse_headers(head[:-4])
    if " 101 " not in status_line + " ":
        writer.close()
        raise Refused(f"upgrade refused: {status_line}")
    if headers.get("sec-websocket-accept") != accept_key(key):
        writer.close()
        raise AssertionError(f"wrong Sec-WebSocket-Accept in {head!r}")
    return reader, writer, b""


async def ws_read_frame_async(reader: asyncio.StreamReader, timeout: float = 10.0):
    """Reads one server frame: (opcode, payload)."""
    first, second = await asyncio.wait_for(reader.readexactly(2), timeout)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", await asyncio.wait_for(reader.readexactly(2), timeout))[0]
    elif length == 127:
        length = struct.unpack("!Q", await asyncio.wait_for(reader.readexactly(8), timeout))[0]
    payload = await asyncio.wait_for(reader.readexactly(length), timeout) if length else b""
    return first & 0x0F, payload


async def ws_echo_once_async(port: int, payload: bytes, *, path: str = "/", timeout: float = 10.0) -> None:
    """Upgrade, one echoed text message, closing handshake (the server closes TCP first)."""
    reader, writer, _ = await ws_open_async(port, path, timeout=timeout)
    try:
        writer.write(client_frame(TEXT, payload))
        opcode, echoed = await ws_read_frame_async(reader, timeout)
        if (opcode, echoed) != (TEXT, payload):
            raise AssertionError(f"bad echo: {opcode} {echoed[:40]!r}")
        writer.write(client_frame(CLOSE, struct.pack("!H", 1000)))
        opcode, _ = await ws_read_frame_async(reader, timeout)
        if opcode != CLOSE:
            raise AssertionError(f"expected the close echo, got opcode {opcode}")
        await asyncio.wait_for(reader.read(), timeout)  # EOF: the server closed TCP
    finally:
        writer.close()


async def eio_echo_once_async(port: int, payload: str, *, timeout: float = 10.0) -> None:
    """Engine.IO v4 over WebSocket: open packet, one echoed message, close."""
    reader, writer, _ = await ws_open_async(port, f"{EIO_PATH}?EIO=4&transport=websocket", timeout=timeout)
    try:
        opcode, opened = await ws_read_frame_async(reader, timeout)
        if not opened.startswith(b"0{"):
            raise AssertionError(f"expected the open packet, got {opened[:60]!r}")
        writer.write(client_frame(TEXT, b"4" + payload.encode()))
        while True:
            opcode, data = await ws_read_frame_async(reader, timeout)
            if data == b"2":
                writer.write(client_frame(TEXT, b"3"))
                continue
            if data != b"4" + payload.encode():
                raise AssertionError(f"bad Engine.IO echo: {data[:60]!r}")
            break
        writer.write(client_frame(CLOSE, struct.pack("!H", 1000)))
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                opcode, _ = await ws_read_frame_async(reader, timeout)
                if opcode == CLOSE:
                    break
        with contextlib.suppress(ConnectionError):
            await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
