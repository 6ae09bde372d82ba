"""Their client -> a Socket.IO server: unmodified python-socketio AsyncClients running one script.

Usage (inside a peer venv: python-socketio 5.x, or 4.x for protocol v4 on Engine.IO v3):

    python sio_client.py --url http://127.0.0.1:PORT --transports polling|websocket|polling,websocket \
        --script '[{"connect": "a", "namespaces": ["/", "/custom"], "auth": {"token": 1}}, ...]' [--timeout 10]

Several clients (named "a", "b", ...) live in this one process, each its own AsyncClient with its own
Engine.IO session; the steps run in order. Arguments are JSON, binary written {"_binary": base64}
(sio_common.py). Prints one JSON line with facts only; the tests assert:

    {"version": "5.18.1", "steps": [{"step": "connect", "ok": true, ...}, ...]}

Steps (every wait bounded by the step's "timeout" or --timeout; an optional "label" is copied into the
result):

    {"connect": C, "namespaces": [...], "auth": {...}}
        -> ok, sids {ns: sid}, transport, connect_errors {ns: [args of the connect_error handler]},
           error {"type", "message"} when connect() raised
    {"emit": C, "namespace": NS, "event": E, "args": [...]}              -> ok
    {"call": C, "namespace": NS, "event": E, "args": [...]}              -> ok, ack [args of the reply]
    {"expect": C, "namespace": NS, "event": E}
        -> ok, args: the first not yet consumed event E received by C on NS; "before": the other
           events received before it (consumed too), [{"event", "args"}]
    {"events": C, "namespace": NS, "wait": S}  -> events: everything not yet consumed after S seconds
    {"wait_transport": C, "name": "websocket"} -> ok, transport (waits until it is `name`)
    {"wait_disconnect": C, "namespace": NS}    -> ok, reason (5.x passes one), connected (client-wide)
    {"disconnect": C}                          -> ok, disconnects[ns] = reason seen by the handler
    {"sleep": S}

Handlers: every event the sio-echo contract sends is recorded per namespace; `ack-request` is
acknowledged with the arguments it carried (like `duplex connect`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from importlib import metadata

import socketio

from sio_common import from_json, to_json

# The events the sio-echo contract emits to clients.
RECORDED_EVENTS = ("auth", "message-back", "broadcast", "room-message", "ack-request", "ack-result", "ack-timeout")
VERSION = metadata.version("python-socketio")
MAJOR = int(VERSION.split(".")[0])


class Driven:
    """One AsyncClient and what it received, per namespace, in order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.client = socketio.AsyncClient(reconnection=False)
        self.received: dict[str, list[dict]] = {}
        self.changed = asyncio.Event()
        self.connected: dict[str, bool] = {}
        self.connect_errors: dict[str, list] = {}
        self.disconnects: dict[str, str | None] = {}

    def note(self) -> None:
        self.changed.set()

    def register(self, namespaces: list[str]) -> None:
        for namespace in namespaces:
            self.received.setdefault(namespace, [])
            for event in RECORDED_EVENTS:
                self.client.on(event, self.recorder(namespace, event), namespace=namespace)
            self.client.on("connect", self.on_connect(namespace), namespace=namespace)
            self.client.on("connect_error", self.on_connect_error(namespace), namespace=namespace)
            self.client.on("disconnect", self.on_disconnect(namespace), namespace=namespace)

    def recorder(self, namespace: str, event: str):
        async def handler(*args):
            self.received[namespace].append({"event": event, "args": to_json(list(args))})
            self.note()
            if event == "ack-request":
                return tuple(args)  # python-socketio: a tuple is the list of ack arguments
            return None

        return handler

    def on_connect(self, namespace: str):
        async def handler(*_):
            self.connected[namespace] = True
            self.note()

        return handler

    def on_connect_error(self, namespace: str):
        async def handler(*args):
            self.connect_errors[namespace] = to_json(list(args))
            self.note()

        return handler

    def on_disconnect(self, namespace: str):
        async def handler(reason=None):
            self.connected[namespace] = False
            self.disconnects[namespace] = reason
            self.note()

        return handler

    async def until(self, predicate, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), min(remaining, 0.05))
            except asyncio.TimeoutError:
                pass
        return True

    def transport(self) -> str | None:
        try:
            return self.client.transport()
        except Exception:
            return None


class Script:
    def __init__(self, url: str, transports: list[str], timeout: float) -> None:
        self.url = url
        self.transports = transports
        self.timeout = timeout
        self.clients: dict[str, Driven] = {}

    async def connect(self, name: str, step: dict, timeout: float) -> dict:
        driven = self.clients[name] = Driven(name)
        namespaces = step.get("namespaces", ["/"])
        driven.register(namespaces)
        arguments = {"transports": self.transports, "namespaces": namespaces}
        if MAJOR >= 5:
            arguments["wait_timeout"] = timeout
            if "auth" in step:
                arguments["auth"] = from_json(step["auth"])
        result: dict = {}
        try:
            await asyncio.wait_for(driven.client.connect(self.url, **arguments), timeout + 1)
        except Exception as exc:
            result["error"] = {"type": type(exc).__name__, "message": str(exc)}
        if MAJOR < 5 and "error" not in result:
            # 4.x returns once Engine.IO is open; the namespaces connect afterwards.
            await driven.until(lambda: all(n in driven.connected or n in driven.connect_errors for n in namespaces),
                               timeout)
        result["sids"] = {n: self.sid(driven, n) for n in namespaces if driven.connected.get(n)}
        result["connect_errors"] = driven.connect_errors
        result["transport"] = driven.transport()
        result["ok"] = "error" not in result and all(driven.connected.get(n) for n in namespaces)
        return result

    @staticmethod
    def sid(driven: Driven, namespace: str) -> str | None:
        if MAJOR >= 5:
            return driven.client.get_sid(namespace)
        return driven.client.sid

    async def run(self, step: dict) -> dict:
        kind = next(iter(step))
        timeout = float(step.get("timeout", self.timeout))
        started = time.monotonic()
        try:
            if kind == "sleep":
                await asyncio.sleep(float(step["sleep"]))
                result = {"ok": True}
            elif kind == "connect":
                result = await self.connect(step["connect"], step, timeout)
            else:
                result = await self.run_on(self.clients[step[kind]], kind, step, timeout)
        except Exception as exc:  # reported, the test decides
            result = {"ok": False, "exception": f"{type(exc).__name__}: {exc}"}
        result.update(step=kind, elapsed=round(time.monotonic() - started, 3))
        if "label" in step:
            result["label"] = step["label"]
        if kind != "sleep":
            result["client"] = step[kind]
        return result

    async def run_on(self, driven: Driven, kind: str, step: dict, timeout: float) -> dict:
        namespace = step.get("namespace", "/")
        if not driven.connected:
            return {"ok": False, "error": f"client {driven.name} never connected"}  # fail fast, not by timeout
        if kind == "emit":
            await driven.client.emit(step["event"], tuple(from_json(step.get("args", []))), namespace=namespace)
            return {"ok": True}
        if kind == "call":
            reply: asyncio.Future = asyncio.get_running_loop().create_future()

            def on_reply(*args):
                if not reply.done():
                    reply.set_result(list(args))

            await driven.client.emit(step["event"], tuple(from_json(step.get("args", []))), namespace=namespace,
                                     callback=on_reply)
            try:
                return {"ok": True, "ack": to_json(await asyncio.wait_for(reply, timeout))}
            except asyncio.TimeoutError:
                return {"ok": False, "error": f"no ack within {timeout}s"}
        if kind == "expect":
            events = driven.received.setdefault(namespace, [])
            found = await driven.until(lambda: any(e["event"] == step["event"] for e in events), timeout)
            if not found:
                return {"ok": False, "error": f"no {step['event']!r} within {timeout}s", "received": list(events)}
            index = next(i for i, e in enumerate(events) if e["event"] == step["event"])
            before, match = events[:index], events[index]
            del events[: index + 1]
            return {"ok": True, "args": match["args"], "before": before}
        if kind == "events":
            await asyncio.sleep(float(step.get("wait", 0)))
            events = driven.received.setdefault(namespace, [])
            taken = list(events)
            events.clear()
            return {"ok": True, "events": taken}
        if kind == "wait_transport":
            ok = await driven.until(lambda: driven.transport() == step["name"], timeout)
            return {"ok": ok, "transport": driven.transport()}
        if kind == "wait_disconnect":
            ok = await driven.until(lambda: namespace in driven.disconnects, timeout)
            return {"ok": ok, "reason": driven.disconnects.get(namespace), "connected": driven.client.connected}
        if kind == "disconnect":
            await asyncio.wait_for(driven.client.disconnect(), timeout)
            return {"ok": True, "disconnects": driven.disconnects, "connected": driven.client.connected}
        return {"ok": False, "error": f"unknown step {kind}"}

    async def close(self) -> None:
        async def disconnect(driven: Driven) -> None:
            try:
                await asyncio.wait_for(driven.client.disconnect(), 5)
            except Exception:
                pass

        await asyncio.gather(*(disconnect(driven) for driven in self.clients.values()))


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--transports", default="polling,websocket")
    parser.add_argument("--script", default="[]")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()

    script = Script(args.url, args.transports.split(","), args.timeout)
    steps = []
    try:
        for step in json.loads(args.script):
            steps.append(await script.run(step))
    finally:
        await script.close()
    print(json.dumps({"version": VERSION, "steps": steps}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
