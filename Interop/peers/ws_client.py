"""Their client -> our server: a websockets client driven by JSON commands.

Usage (inside a peer venv):  python ws_client.py --impl legacy|new

Prints one line {"ready": true, "version": ..., "impl": ...}, then answers each JSON
command line read from stdin with one JSON result line on stdout. A command is:

    {"id": 1, "url": "ws://127.0.0.1:PORT/path", "compression": true,
     "subprotocols": ["chat"] | null, "max_size": 16777216 | null, "timeout": 10,
     "steps": [{"echo": "text"}, {"ping": "hex"}, ...],  (see ws_common.run_steps)
     "close": {"code": 1000, "reason": "bye"} | {"await": true}}

"close" either closes from this side with that code, or waits for the server to close.
The result carries facts only (negotiated subprotocol/extensions, per-step digests, the
close frames sent and received, how long the closing handshake took); the tests assert.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

import ws_common
from ws_common import Adapter, await_peer_close, describe, emit, run_steps


def connector(impl: str):
    if impl == "legacy":
        from websockets.legacy.client import connect
    else:
        from websockets.asyncio.client import connect
    return connect


async def run_command(impl: str, command: dict) -> dict:
    timeout = float(command.get("timeout", 10))
    result: dict = {"id": command["id"], "connected": False}
    connect = connector(impl)
    try:
        ws = await connect(
            command["url"],
            compression="deflate" if command.get("compression", True) else None,
            subprotocols=command.get("subprotocols"),
            max_size=command.get("max_size", 64 * ws_common.ONE_MIB),
            open_timeout=timeout,
            close_timeout=float(command.get("close_timeout", 5)),
            ping_interval=None,
        )
    except (Exception, asyncio.CancelledError) as exc:
        result["connect_error"] = describe(exc)
        return result

    adapter = Adapter(ws, impl)
    result["connected"] = True
    result["subprotocol"] = ws.subprotocol
    result["extensions"] = adapter.extensions()
    result["extensions_header"] = adapter.response_headers().get("Sec-WebSocket-Extensions")
    try:
        result["steps"] = await run_steps(adapter, command.get("steps", []), timeout)
        close = command.get("close", {"code": 1000, "reason": ""})
        started = time.monotonic()
        try:
            if close.get("await"):
                result["after_steps"] = await await_peer_close(ws, timeout)
            else:
                await asyncio.wait_for(ws.close(close["code"], close.get("reason", "")), timeout)
        except (Exception, asyncio.CancelledError) as exc:
            result["close_exception"] = describe(exc)
        result["close_elapsed"] = round(time.monotonic() - started, 3)
        result["close"] = adapter.close_info()
    finally:
        ws.transport.abort()  # no-op once closed; never leave a socket behind a failed step
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", choices=["legacy", "new"], required=True)
    args = parser.parse_args()
    emit({"ready": True, "version": ws_common.WEBSOCKETS_VERSION, "impl": args.impl})
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        if not line.strip():
            continue
        command = json.loads(line)
        try:
            budget = float(command.get("timeout", 10)) * 4 + 10
            result = await asyncio.wait_for(run_command(args.impl, command), budget)
        except (Exception, asyncio.CancelledError) as exc:
            result = {"id": command.get("id"), "driver_exception": describe(exc)}
        emit(result)


if __name__ == "__main__":
    asyncio.run(main())
