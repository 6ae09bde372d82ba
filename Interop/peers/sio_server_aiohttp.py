"""python-socketio's AsyncServer attached to an aiohttp application, with the `duplex sio-echo`
semantics (see sio_server_common.py).

Usage (inside the peer-socketio-latest venv):
    python sio_server_aiohttp.py [--ping-interval MS] [--ping-timeout MS] [--max-payload BYTES]
"""

from __future__ import annotations

import asyncio
import signal

from aiohttp import web

from aiohttp_whole_bodies import read_polling_bodies_whole
from sio_common import listening_socket
from sio_server_common import EchoServer, parse_arguments


async def main() -> None:
    read_polling_bodies_whole()  # a python-engineio bug: see aiohttp_whole_bodies.py
    server = EchoServer("aiohttp", parse_arguments(__doc__))
    app = web.Application()
    server.sio.attach(app)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    sock = listening_socket()
    await web.SockSite(runner, sock).start()
    print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
