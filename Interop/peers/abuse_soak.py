"""The bounded soak behind scripts/soak (standard library only).

For each server (`duplex ws-echo`, `duplex eio-echo`, and `duplex sio-echo` when the CLI has it),
CLIENTS asyncio clients loop for DURATION seconds: connect, handshake, echo a few messages,
disconnect. Each server's VmRSS and open fds are read after a warm-up at full concurrency (the
baseline), sampled during the run (peak) and read again once the clients are gone; the soak
fails if any client cycle failed or if fds / memory did not return near the baseline.

Run it as `scripts/soak [--duration SECONDS] [--clients N]`; `--json` prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import struct
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # Interop/, for `peers.*` and `harness.*`

from peers.abuse_support import (  # noqa: E402
    CLOSE,
    EIO_PATH,
    TEXT,
    ResourceMonitor,
    Resources,
    ServerUnderTest,
    client_frame,
    http_request,
    raise_fd_limit,
    wait_for_fds,
    ws_open_async,
    ws_read_frame_async,
)

# Allowed growth once the clients are gone. The baseline is taken after a warm-up at full
# concurrency, so the allocator has already grown to the peak a run reaches; what remains is
# fragmentation, which does not grow with time. A leak does: at ~100+ cycles/s a leak of 1 KiB per
# cycle is 6 MiB a minute and 60 MiB in the default 10 minutes.
RSS_SLACK_MIB = 24
RSS_SLACK_RATIO = 0.15
FD_SLACK = 8
OPERATION_TIMEOUT = 30.0
# Clients start spread over this many seconds: thousands of connects at the same instant would
# test the listen backlog (test_abuse_ws.py's storm does), not the servers' steady state.
RAMP_SECONDS = 5.0
# Long enough for every client to have ramped up and looped a few times.
WARM_UP_SECONDS = 15.0
SETTLE_SECONDS = 30.0


# MARK: - One client cycle per protocol


async def ws_cycle(port: int, number: int) -> None:
    """WebSocket: upgrade, 3 echoed messages, closing handshake (the server closes TCP)."""
    reader, writer, _ = await ws_open_async(port, "/soak", timeout=OPERATION_TIMEOUT)
    try:
        for index in range(3):
            payload = f"soak {number}.{index}".encode()
            writer.write(client_frame(TEXT, payload))
            opcode, echoed = await ws_read_frame_async(reader, OPERATION_TIMEOUT)
            if (opcode, echoed) != (TEXT, payload):
                raise AssertionError(f"ws-echo: bad echo {opcode} {echoed[:60]!r}")
        writer.write(client_frame(CLOSE, struct.pack("!H", 1000)))
        opcode, _ = await ws_read_frame_async(reader, OPERATION_TIMEOUT)
        if opcode != CLOSE:
            raise AssertionError(f"ws-echo: expected the close echo, got opcode {opcode}")
        await asyncio.wait_for(reader.read(), OPERATION_TIMEOUT)
    finally:
        writer.close()


async def _eio_websocket_exchange(port: int, path: str, opening: list[bytes], exchanges: list[tuple[bytes, bytes]]) -> None:
    """Engine.IO over WebSocket: the open packet, then `opening` packets and expected replies
    (answering pings on the way), then a WebSocket close."""
    reader, writer, _ = await ws_open_async(port, path, timeout=OPERATION_TIMEOUT)

    async def next_packet() -> bytes:
        while True:
            opcode, data = await ws_read_frame_async(reader, OPERATION_TIMEOUT)
            if opcode == CLOSE:
                raise AssertionError(f"{path}: closed by the server")
            if data == b"2":
                writer.write(client_frame(TEXT, b"3"))
                continue
            return data

    try:
        opened = await next_packet()
        if not opened.startswith(b"0{"):
            raise AssertionError(f"{path}: expected the open packet, got {opened[:60]!r}")
        for packet in opening:
            writer.write(client_frame(TEXT, packet))
        for sent, expected in exchanges:
            if sent:
                writer.write(client_frame(TEXT, sent))
            while True:
                data = await next_packet()
                if _same_packet(data, expected):
                    break
                # Socket.IO: other packets (the CONNECT answer, other events) may come first.
                if not expected.startswith(b"42") or not data.startswith(b"4"):
                    raise AssertionError(f"{path}: expected {expected[:60]!r}, got {data[:60]!r}")
        writer.write(client_frame(CLOSE, struct.pack("!H", 1000)))
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError, asyncio.TimeoutError):
            while (await ws_read_frame_async(reader, OPERATION_TIMEOUT))[0] != CLOSE:
                pass
            await asyncio.wait_for(reader.read(), OPERATION_TIMEOUT)
    finally:
        writer.close()


def _same_packet(data: bytes, expected: bytes) -> bool:
    """Equal packets; Socket.IO events (`42[...]`) compare as JSON, whatever the spacing."""
    if data == expected:
        return True
    if data.startswith(b"42") and expected.startswith(b"42"):
        with contextlib.suppress(ValueError):
            return json.loads(data[2:]) == json.loads(expected[2:])
    return False


async def eio_cycle(port: int, number: int) -> None:
    """Engine.IO: 3 cycles in 4 over WebSocket, 1 over long-polling (handshake, POST, GET, close)."""
    if number % 4:
        payload = f"4soak {number}".encode()
        await _eio_websocket_exchange(port, f"{EIO_PATH}?EIO=4&transport=websocket", [], [(payload, payload)])
        return
    await asyncio.get_running_loop().run_in_executor(None, _eio_polling_cycle, port, number)


def _eio_polling_cycle(port: int, number: int) -> None:
    answer = http_request(port, "GET", f"{EIO_PATH}?EIO=4&transport=polling", timeout=OPERATION_TIMEOUT)
    if answer.status != 200 or not answer.body.startswith(b"0{"):
        raise AssertionError(f"eio polling handshake: {answer.status} {answer.body[:80]!r}")
    sid = json.loads(answer.body[1:])["sid"]
    target = f"{EIO_PATH}?EIO=4&transport=polling&sid={sid}"
    message = f"4soak polling {number}".encode()
    headers = {"Content-Type": "text/plain;charset=UTF-8"}
    answer = http_request(port, "POST", target, message, headers=headers, timeout=OPERATION_TIMEOUT)
    if (answer.status, answer.body) != (200, b"ok"):
        raise AssertionError(f"eio polling POST: {answer.status} {answer.body[:80]!r}")
    deadline = time.monotonic() + OPERATION_TIMEOUT
    while time.monotonic() < deadline:
        answer = http_request(port, "GET", target, timeout=OPERATION_TIMEOUT)
        if answer.status != 200:
            raise AssertionError(f"eio polling GET: {answer.status} {answer.body[:80]!r}")
        packets = answer.body.split(b"\x1e")
        if b"2" in packets:
            http_request(port, "POST", target, b"3", headers=headers, timeout=OPERATION_TIMEOUT)
        if message in packets:
            break
    else:
        raise AssertionError("eio polling: no echo")
    http_request(port, "POST", target, b"1", headers=headers, timeout=OPERATION_TIMEOUT)  # close


async def sio_cycle(port: int, number: int) -> None:
    """Socket.IO v5 over WebSocket: CONNECT `/`, the server's `auth` event, one `message` echoed
    as `message-back`, then disconnect."""
    payload = json.dumps(["message", f"soak {number}"]).encode()
    expected = json.dumps(["message-back", f"soak {number}"]).encode()
    await _eio_websocket_exchange(
        port,
        "/socket.io/?EIO=4&transport=websocket",
        [b"40"],
        [(b"", b"42" + json.dumps(["auth", {}]).encode()), (b"42" + payload, b"42" + expected)],
    )


CYCLES = {"ws-echo": ws_cycle, "eio-echo": eio_cycle, "sio-echo": sio_cycle}


# MARK: - The run


def available_commands(duplex: Path) -> list[str]:
    """The soak's servers that `duplex --help` lists as subcommands."""
    listing = subprocess.run([str(duplex), "--help"], capture_output=True, text=True, timeout=60).stdout
    listed = {match.group(1) for match in re.finditer(r"^\s+(\S+)\s", listing, re.MULTILINE)}
    return [command for command in CYCLES if command in listed]


async def drive(servers: dict[str, ServerUnderTest], clients: int, duration: float, stats: dict) -> None:
    stop_at = time.monotonic() + duration

    async def client(command: str, server: ServerUnderTest, number: int) -> None:
        entry = stats[command]
        cycle = CYCLES[command]
        count = 0
        await asyncio.sleep(RAMP_SECONDS * number / clients)
        while time.monotonic() < stop_at:
            count += 1
            try:
                await cycle(server.port, number * 1_000_000 + count)
                entry["cycles"] += 1
            except Exception as error:
                entry["failures"] += 1
                if len(entry["errors"]) < 5:
                    entry["errors"].append(f"{type(error).__name__}: {str(error)[:160]}")

    await asyncio.gather(*(client(command, server, number)
                           for command, server in servers.items() for number in range(clients)))


def warm_up(servers: dict[str, ServerUnderTest], clients: int) -> None:
    """The soak's own load for WARM_UP_SECONDS, so the baseline includes the allocator's peak.

    One cycle per client is not enough: spread over the ramp, few of them overlap, while in the
    soak every client loops and most are connected at any time, so the memory of the run's
    concurrency was first reached after the baseline was taken."""
    stats = {command: {"cycles": 0, "failures": 0, "errors": []} for command in servers}
    asyncio.run(drive(servers, clients, WARM_UP_SECONDS, stats))
    for command, entry in stats.items():
        if entry["failures"] or not entry["cycles"]:
            raise SystemExit(f"soak: warm-up of {command} failed: {entry['errors'][:3]}")


def settled(server: ServerUnderTest, baseline: Resources) -> Resources:
    return wait_for_fds(server, baseline.fds + FD_SLACK, SETTLE_SECONDS)


def run(duplex: Path, duration: float, clients: int, commands: list[str]) -> dict:
    needed = clients * len(commands) * 2 + 256
    limit = raise_fd_limit(needed)
    if limit < needed:
        raise SystemExit(f"soak: ulimit -n is {limit}, {needed} needed for {clients} clients per server; use --clients")
    # The default heartbeat (25 s + 20 s): a client of a CPU-bound soak may wait seconds between
    # two reads, and a missed pong would count as a failed cycle that the server did not cause.
    flags = {"ws-echo": ("--no-compression",), "eio-echo": (), "sio-echo": ()}
    servers = {command: ServerUnderTest(duplex, command, flags[command]) for command in commands}
    try:
        warm_up(servers, clients)
        time.sleep(1)
        baseline = {command: wait_for_fds(server, 0, 0) for command, server in servers.items()}
        # Polling sessions of the warm-up close themselves; give fds a moment to settle first.
        baseline = {command: settled(server, baseline[command]) for command, server in servers.items()}
        stats = {command: {"cycles": 0, "failures": 0, "errors": []} for command in servers}
        monitors = {command: ResourceMonitor(server.pid, interval=0.25) for command, server in servers.items()}
        for monitor in monitors.values():
            monitor.__enter__()
        started = time.monotonic()
        try:
            asyncio.run(drive(servers, clients, duration, stats))
        finally:
            for monitor in monitors.values():
                monitor.__exit__(None, None, None)
        elapsed = time.monotonic() - started
        report = {"duration_s": round(elapsed, 1), "clients_per_server": clients, "servers": {}}
        ok = True
        for command, server in servers.items():
            alive = server.alive
            after = settled(server, baseline[command]) if alive else baseline[command]
            before = baseline[command]
            rss_limit_kib = before.rss_kib * (1 + RSS_SLACK_RATIO) + RSS_SLACK_MIB * 1024
            entry = stats[command]
            verdicts = []
            if not alive:
                verdicts.append("server died")
            if entry["failures"]:
                verdicts.append(f"{entry['failures']} failed cycles")
            if entry["cycles"] == 0:
                verdicts.append("no cycle completed")
            if after.fds > before.fds + FD_SLACK:
                verdicts.append(f"fds {before.fds} -> {after.fds} (> +{FD_SLACK})")
            if after.rss_kib > rss_limit_kib:
                verdicts.append(f"VmRSS {before.rss_kib / 1024:.1f} -> {after.rss_kib / 1024:.1f} MiB "
                                f"(> {rss_limit_kib / 1024:.1f} MiB)")
            ok = ok and not verdicts
            report["servers"][command] = {
                "cycles": entry["cycles"],
                "cycles_per_s": round(entry["cycles"] / elapsed, 1),
                "failures": entry["failures"],
                "errors": entry["errors"],
                "rss_before_mib": round(before.rss_kib / 1024, 1),
                "rss_peak_mib": round(monitors[command].peak_rss_kib / 1024, 1),
                "rss_after_mib": round(after.rss_kib / 1024, 1),
                "fds_before": before.fds,
                "fds_peak": monitors[command].peak_fds,
                "fds_after": after.fds,
                "verdict": "ok" if not verdicts else "; ".join(verdicts),
            }
            if not alive:
                report["servers"][command]["stderr"] = server.describe()[-2000:]
        report["ok"] = ok
        return report
    finally:
        for server in servers.values():
            server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duplex", type=Path, required=True, help="the duplex executable")
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of load (default 600)")
    parser.add_argument("--clients", type=int, default=1000, help="concurrent clients per server (default 1000)")
    parser.add_argument("--servers", default="", help="comma-separated subset of ws-echo,eio-echo,sio-echo")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    options = parser.parse_args()
    if options.duration <= 0 or options.clients <= 0:
        parser.error("--duration and --clients must be positive")
    commands = available_commands(options.duplex)
    if options.servers:
        wanted = [name.strip() for name in options.servers.split(",") if name.strip()]
        missing = [name for name in wanted if name not in commands]
        if missing:
            parser.error(f"not available in {options.duplex}: {', '.join(missing)}")
        commands = wanted
    elif "ws-echo" not in commands or "eio-echo" not in commands:
        parser.error(f"{options.duplex} lacks ws-echo or eio-echo")
    print(f"soak: {options.clients} clients per server against {', '.join(commands)} for {options.duration:g}s",
          file=sys.stderr, flush=True)
    report = run(options.duplex, options.duration, options.clients, commands)
    if options.json:
        print(json.dumps(report))
    else:
        print(f"soak: {report['duration_s']}s, {report['clients_per_server']} clients per server")
        for command, entry in report["servers"].items():
            print(f"  {command:9} cycles={entry['cycles']} ({entry['cycles_per_s']}/s) failures={entry['failures']} "
                  f"rss MiB before/peak/after={entry['rss_before_mib']}/{entry['rss_peak_mib']}/{entry['rss_after_mib']} "
                  f"fds before/peak/after={entry['fds_before']}/{entry['fds_peak']}/{entry['fds_after']}: {entry['verdict']}")
            for error in entry["errors"]:
                print(f"      {error}")
        print("soak: OK" if report["ok"] else "soak: FAILED")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
