"""Our Engine.IO client -> their server: the python-engineio side, shared by the ASGI
(uvicorn) and aiohttp programs (eio_server_asgi.py, eio_server_aiohttp.py).

Each session is driven by the ``plan`` query parameter of the client's URL:
base64url(JSON) ``{"id", "count", "phases", "wait_upgrade", "large", "timeout"}``. The server
sends ``count`` messages per phase (text, binary every third, an empty text, and in the first
phase a text of ``large`` characters when given), waits until the client (``duplex eio --echo``) has echoed them all,
between phases waits up to ``wait_upgrade`` seconds for the session to be on WebSocket,
then prints one JSON line and closes the session:

    {"id", "ok", "sent", "received", "mismatch", "transport", "transports_seen",
     "engineio_version", "error"}

With ``hold`` (seconds) the server keeps the session open that long after the last phase and
reports ``alive`` (whether it survived, e.g. heartbeats with ``--ping-interval``).

The program prints ``listening on http://127.0.0.1:PORT`` once ready, then one line per
plan, until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import socket
import sys
import time
from importlib.metadata import version
from urllib.parse import parse_qs

import engineio


def emit(record: dict) -> None:
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def decode_plan(query_string: str) -> dict:
    token = parse_qs(query_string).get("plan", [""])[0]
    if not token:
        return {}
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def digest(message) -> str:
    """A short, comparable description of a message (type, length, hash)."""
    kind = "bytes" if isinstance(message, bytes) else "str"
    raw = message if isinstance(message, bytes) else message.encode("utf-8")
    return f"{kind}:{len(raw)}:{hashlib.sha1(raw).hexdigest()[:12]}"


def phase_messages(phase: int, count: int, large: int) -> list:
    messages: list = []
    for index in range(count):
        if index % 3 == 2:
            messages.append(bytes([phase, index % 256, 0, 0xFF, 0x1E]) + f"b{index}".encode())
        else:
            messages.append(f"p{phase}-m{index}-héllo-€")
    messages.insert(count // 2, "")
    if large and phase == 0:
        messages.append("L" * large)
    return messages


def parse_arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--ping-interval", type=float, default=25.0, help="seconds")
    parser.add_argument("--ping-timeout", type=float, default=20.0, help="seconds")
    return parser.parse_args()


class PlanRunner:
    """The python-engineio server and the per-session plan runs."""

    def __init__(self, async_mode: str, arguments: argparse.Namespace) -> None:
        self.eio = engineio.AsyncServer(
            async_mode=async_mode,
            logger=False,
            max_http_buffer_size=1_000_000,
            ping_interval=arguments.ping_interval,
            ping_timeout=arguments.ping_timeout,
        )
        self.received: dict[str, list] = {}
        self.changed: dict[str, asyncio.Event] = {}
        self.tasks: set[asyncio.Task] = set()
        self.eio.on("connect", self.on_connect)
        self.eio.on("message", self.on_message)
        self.eio.on("disconnect", self.on_disconnect)

    async def on_connect(self, sid, environ, *_):
        plan = decode_plan(environ.get("QUERY_STRING", ""))
        self.received[sid] = []
        self.changed[sid] = asyncio.Event()
        if plan:
            task = asyncio.get_running_loop().create_task(self.run_plan(sid, plan))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def on_message(self, sid, data):
        self.received.setdefault(sid, []).append(data)
        event = self.changed.get(sid)
        if event is not None:
            event.set()

    async def on_disconnect(self, sid, *_):
        event = self.changed.get(sid)
        if event is not None:
            event.set()

    async def wait_for(self, sid: str, predicate, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            event = self.changed[sid]
            event.clear()
            try:
                await asyncio.wait_for(event.wait(), min(remaining, 0.05))
            except asyncio.TimeoutError:
                pass
        return True

    def transport(self, sid: str) -> str:
        try:
            return self.eio.transport(sid)
        except KeyError:
            return "closed"

    async def run_plan(self, sid: str, plan: dict) -> None:
        record = {"id": plan.get("id"), "engineio_version": version("python-engineio"), "ok": False}
        sent: list = []
        transports_seen = [self.transport(sid)]
        try:
            count = int(plan.get("count", 20))
            phases = int(plan.get("phases", 1))
            timeout = float(plan.get("timeout", 20))
            for phase in range(phases):
                for message in phase_messages(phase, count, int(plan.get("large", 0))):
                    sent.append(message)
                    await self.eio.send(sid, message)
                    if self.transport(sid) != transports_seen[-1]:
                        transports_seen.append(self.transport(sid))
                echoed = await self.wait_for(sid, lambda: len(self.received[sid]) >= len(sent), timeout)
                if not echoed:
                    record["error"] = f"phase {phase}: {len(self.received[sid])} of {len(sent)} echoes in {timeout}s"
                    break
                if phase < phases - 1 and plan.get("wait_upgrade"):
                    await self.wait_for(sid, lambda: self.transport(sid) == "websocket", float(plan["wait_upgrade"]))
                if self.transport(sid) != transports_seen[-1]:
                    transports_seen.append(self.transport(sid))
            received = self.received[sid]
            record["sent"] = len(sent)
            record["received"] = len(received)
            mismatch = next(
                (i for i, (a, b) in enumerate(zip(sent, received)) if type(a) is not type(b) or a != b), None
            )
            if mismatch is not None:
                record["mismatch"] = {"index": mismatch, "sent": digest(sent[mismatch]),
                                      "received": digest(received[mismatch])}
            record["ok"] = "error" not in record and mismatch is None and len(received) == len(sent)
            record["transport"] = self.transport(sid)
            record["transports_seen"] = transports_seen
            if plan.get("hold"):
                await asyncio.sleep(float(plan["hold"]))
                record["alive"] = sid in self.eio.sockets and self.transport(sid) != "closed"
        except Exception as exc:  # report, never crash the server
            record["error"] = f"{type(exc).__name__}: {exc}"
        emit(record)
        try:
            await self.eio.disconnect(sid)
        except Exception:
            pass
