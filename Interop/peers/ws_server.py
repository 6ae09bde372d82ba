"""Our client -> their server: a websockets server that drives each connection by its URL.

Usage (inside a peer venv):
    python ws_server.py --impl legacy|new [--no-compression] [--subprotocol NAME ...]

Prints exactly one line ``listening on ws://127.0.0.1:PORT`` when ready, then one JSON
line per WebSocket connection it handled, until SIGTERM/SIGINT. The request path says
what to do, so one server process serves a whole group of tests:

- ``/status/NNN``: ``process_request`` answers HTTP NNN instead of upgrading.
- ``/run/PLAN``: PLAN is base64url(JSON) ``{"id": ..., "steps": [...], "close": {...}}``.
  Steps are those of ws_common.run_steps (echo, ping, send, send_text). ``close`` is
  ``{"code": C, "reason": R}`` (this server closes) or ``{"await": true}`` (wait for the client).
- any other path: report the request and close with 1000.

Each JSON line carries the plan id, the request path and headers, the negotiated
subprotocol and extensions, per-step digests and the close frames sent and received.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import signal
import time
from http import HTTPStatus

from ws_common import Adapter, await_peer_close, describe, emit, run_steps


def decode_plan(path: str) -> dict:
    if not path.startswith("/run/"):
        return {}
    token = path[len("/run/") :].split("?", 1)[0]
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def status_for(path: str) -> int | None:
    if path.startswith("/status/"):
        return int(path[len("/status/") :].split("?", 1)[0])
    return None


def make_handler(impl: str):
    async def handler(ws, *_legacy_path):
        adapter = Adapter(ws, impl)
        path = adapter.path()
        result: dict = {"path": path}
        try:
            plan = decode_plan(path)
            result["id"] = plan.get("id")
            timeout = float(plan.get("timeout", 10))
            result["request_headers"] = [
                [name, value]
                for name, value in adapter.request_headers().raw_items()
                if name.lower() != "sec-websocket-key"
            ]
            result["subprotocol"] = ws.subprotocol
            result["extensions"] = adapter.extensions()
            result["extensions_header"] = adapter.response_headers().get("Sec-WebSocket-Extensions")
            result["steps"] = await run_steps(adapter, plan.get("steps", []), timeout)
            close = plan.get("close", {"code": 1000, "reason": ""})
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
        except (Exception, asyncio.CancelledError) as exc:
            result["handler_exception"] = describe(exc)
        finally:
            emit(result)

    return handler


def make_process_request(impl: str):
    if impl == "legacy":

        async def process_request(path, _request_headers):
            status = status_for(path)
            if status is None:
                return None
            return HTTPStatus(status), [("Content-Type", "text/plain")], f"status {status}\n".encode()

        return process_request

    def process_request(connection, request):
        status = status_for(request.path)
        if status is None:
            return None
        return connection.respond(HTTPStatus(status), f"status {status}\n")

    return process_request


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", choices=["legacy", "new"], required=True)
    parser.add_argument("--no-compression", action="store_true")
    parser.add_argument("--subprotocol", action="append", default=None)
    parser.add_argument("--max-size", type=int, default=64 << 20)
    args = parser.parse_args()

    if args.impl == "legacy":
        from websockets.legacy.server import serve
    else:
        from websockets.asyncio.server import serve

    server = await serve(
        make_handler(args.impl),
        "127.0.0.1",
        0,
        compression=None if args.no_compression else "deflate",
        subprotocols=args.subprotocol,
        process_request=make_process_request(args.impl),
        max_size=args.max_size,
        ping_interval=None,
        close_timeout=5,
    )
    port = server.sockets[0].getsockname()[1]
    print(f"listening on ws://127.0.0.1:{port}", flush=True)

    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda: stop.done() or stop.set_result(None))
    await stop
    server.close()
    await asyncio.wait_for(server.wait_closed(), 10)


if __name__ == "__main__":
    asyncio.run(main())
