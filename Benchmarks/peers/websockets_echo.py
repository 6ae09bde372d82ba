"""WebSocket echo server on Python websockets' asyncio implementation, for scripts/bench.

Echoes every message with its own opcode (a str is sent back as text, bytes as binary).
Compression is off and message size unbounded, like the Swift servers it is compared with.
Prints ``listening on ws://HOST:PORT`` on stdout once the socket is bound, then serves
until it is terminated (scripts/bench sends SIGTERM to its PID).
"""

import argparse
import asyncio

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed


async def echo(connection: ServerConnection) -> None:
    try:
        async for message in connection:
            await connection.send(message)
    except ConnectionClosed:
        # A peer that drops TCP without a close frame is not a server error.
        pass


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    arguments = parser.parse_args()

    async with serve(
        echo,
        arguments.host,
        arguments.port,
        compression=None,
        max_size=None,
    ) as server:
        host, port = next(iter(server.sockets)).getsockname()[:2]
        print(f"listening on ws://{host}:{port}", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
