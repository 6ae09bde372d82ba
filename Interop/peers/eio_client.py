"""Their client -> our server: an unmodified python-engineio AsyncClient running one scenario.

Usage (inside a peer venv with python-engineio 4.x or 3.x):

    python eio_client.py --url http://127.0.0.1:PORT --transports polling,websocket \
        --steps '[{"echo": "hello"}, {"ordered": 200}]' [--timeout 20]

Prints one JSON line with facts only; the tests assert:

    {"version": "4.15.1", "connected": true, "sid": "...", "transport": "websocket",
     "steps": [{"step": "echo", "ok": true, ...}, ...],
     "batches": [1, 16, 16, ...],      packets per polling payload the client decoded
     "connect_error": {"type": "ConnectionError", "args": [...]}   when connecting failed}

Steps (each sends through the client and waits for the server's echo):

    {"echo": "text"}             one text message
    {"echo_binary": "0102ff"}    one binary message (hex)
    {"large": 100000}            one text message of that many characters
    {"ordered": 200}             that many messages, one after another with a short pause,
                                 echoes interleaving with sends; checks the order
    {"burst": 200}               that many messages queued at once; checks the order
    {"hold": 1.5}                stay connected that many seconds (heartbeats), then echo

Each step result carries the polling payload sizes decoded while it ran ("batches").

"batches" is recorded by observing engineio.payload.Payload.decode; the client's behaviour
is unchanged (python-engineio refuses payloads of more than 16 packets by itself).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from importlib import metadata

import engineio
from engineio import payload as engineio_payload

BATCHES: list[int] = []


def observe_payload_sizes() -> None:
    original = engineio_payload.Payload.decode

    def decode(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        BATCHES.append(len(self.packets))
        return result

    engineio_payload.Payload.decode = decode


class Scenario:
    def __init__(self, client: engineio.AsyncClient, timeout: float) -> None:
        self.client = client
        self.timeout = timeout
        self.received: asyncio.Queue = asyncio.Queue()

    async def next(self):
        return await asyncio.wait_for(self.received.get(), self.timeout)

    async def expect_echoes(self, sent: list) -> dict:
        got = [await self.next() for _ in sent]
        mismatches = [index for index, (a, b) in enumerate(zip(sent, got)) if a != b]
        return {"ok": not mismatches, "count": len(got), "first_mismatch": mismatches[0] if mismatches else None,
                "types": sorted({type(item).__name__ for item in got})}

    async def run(self, step: dict) -> dict:
        kind, value = next(iter(step.items()))
        started = time.monotonic()
        batches_before = len(BATCHES)
        try:
            if kind == "echo":
                await self.client.send(value)
                result = await self.expect_echoes([value])
            elif kind == "echo_binary":
                data = bytes.fromhex(value)
                await self.client.send(data)
                result = await self.expect_echoes([data])
            elif kind == "large":
                text = ("0123456789abcdef" * (int(value) // 16 + 1))[: int(value)]
                await self.client.send(text)
                result = await self.expect_echoes([text])
            elif kind == "ordered":
                messages = [f"ordered-{index}" for index in range(int(value))]
                for message in messages:
                    await self.client.send(message)
                    await asyncio.sleep(0.002)
                result = await self.expect_echoes(messages)
            elif kind == "burst":
                messages = [f"burst-{index}" for index in range(int(value))]
                for message in messages:
                    await self.client.send(message)
                result = await self.expect_echoes(messages)
            elif kind == "hold":
                await asyncio.sleep(float(value))
                await self.client.send("after-hold")
                result = await self.expect_echoes(["after-hold"])
            else:
                result = {"ok": False, "error": f"unknown step {kind}"}
        except Exception as exc:  # the test reports it
            result = {"ok": False, "exception": f"{type(exc).__name__}: {exc}"}
        result.update(step=kind, elapsed=round(time.monotonic() - started, 3), batches=BATCHES[batches_before:])
        return result


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--transports", default="polling,websocket")
    parser.add_argument("--steps", default="[]")
    parser.add_argument("--timeout", type=float, default=20.0)
    args = parser.parse_args()

    observe_payload_sizes()
    client = engineio.AsyncClient()
    scenario = Scenario(client, args.timeout)

    @client.on("message")
    async def on_message(data):
        await scenario.received.put(data)

    result: dict = {"version": metadata.version("python-engineio"), "connected": False, "steps": []}
    try:
        await asyncio.wait_for(client.connect(args.url, transports=args.transports.split(",")), args.timeout)
    except Exception as exc:
        result["connect_error"] = {"type": type(exc).__name__, "args": [repr(a) if not isinstance(a, (str, dict, list, int)) else a
                                                                       for a in exc.args]}
    else:
        result["connected"] = True
        result["sid"] = client.sid
        for step in json.loads(args.steps):
            result["steps"].append(await scenario.run(step))
        result["transport"] = client.transport()
        await client.disconnect()
    finally:
        if getattr(client, "http", None) is not None and not client.http.closed:
            await client.http.close()
    result["batches"] = BATCHES
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
