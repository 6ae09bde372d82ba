"""python-engineio's AsyncServer as an ASGI app under uvicorn (see eio_server_common.py).

Usage (inside a peer-engineio venv): python eio_server_asgi.py [--ping-interval S] [--ping-timeout S]
"""

from __future__ import annotations

import asyncio

import engineio
import uvicorn

from eio_server_common import PlanRunner, listening_socket, parse_arguments


async def main() -> None:
    runner = PlanRunner("asgi", parse_arguments(__doc__))
    app = engineio.ASGIApp(runner.eio)
    sock = listening_socket()
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    port = sock.getsockname()[1]
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    await server.serve(sockets=[sock])


if __name__ == "__main__":
    asyncio.run(main())
