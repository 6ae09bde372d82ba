"""python-engineio's AsyncServer attached to an aiohttp application (see eio_server_common.py).

Usage (inside a peer-engineio venv): python eio_server_aiohttp.py [--ping-interval S] [--ping-timeout S]
"""

from __future__ import annotations

import asyncio
import signal

from aiohttp import web

from aiohttp_whole_bodies import read_polling_bodies_whole
from eio_server_common import PlanRunner, listening_socket, parse_arguments


async def main() -> None:
    read_polling_bodies_whole()  # a python-engineio bug: see aiohttp_whole_bodies.py
    runner = PlanRunner("aiohttp", parse_arguments(__doc__))
    app = web.Application()
    runner.eio.attach(app)
    app_runner = web.AppRunner(app, handle_signals=False)
    await app_runner.setup()
    sock = listening_socket()
    site = web.SockSite(app_runner, sock)
    await site.start()
    print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await app_runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
