"""python-socketio's AsyncServer as an ASGI app under uvicorn, with the `duplex sio-echo` semantics
(see sio_server_common.py).

Usage (inside the peer-socketio-latest venv):
    python sio_server_asgi.py [--ping-interval MS] [--ping-timeout MS] [--max-payload BYTES]
"""

from __future__ import annotations

import asyncio

import socketio
import uvicorn

from sio_common import listening_socket
from sio_server_common import EchoServer, parse_arguments


async def main() -> None:
    server = EchoServer("asgi", parse_arguments(__doc__))
    app = socketio.ASGIApp(server.sio)
    sock = listening_socket()
    uvicorn_server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    await uvicorn_server.serve(sockets=[sock])


if __name__ == "__main__":
    asyncio.run(main())
