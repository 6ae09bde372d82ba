"""Socket.IO echo server on python-socketio (AsyncServer, ASGI) under uvicorn, for scripts/bench.

The events ``duplex sio-echo`` implements that the benchmark uses, on the namespaces ``/``
and ``/custom``: ``message`` is answered with ``message-back`` and the same arguments,
``broadcast`` is re-emitted as ``broadcast`` to every socket of the namespace (sender
included), and each socket receives ``auth`` with its CONNECT payload when it joins.
Engine.IO's defaults are those of ``duplex sio-echo``: ping interval 25 s, timeout 20 s,
1,000,000-byte messages, any origin.

One uvicorn worker in this process, so that the benchmark reads this PID's memory and CPU.
Prints ``listening on http://HOST:PORT`` on stdout once the socket is bound, then serves until
it is terminated (scripts/bench sends SIGTERM to its PID).
"""

import argparse
import asyncio
import socket

import socketio
import uvicorn

NAMESPACES = ("/", "/custom")


def register(server: socketio.AsyncServer, namespace: str) -> None:
    async def connect(sid, environ, auth=None):
        await server.emit("auth", auth if auth is not None else {}, to=sid, namespace=namespace)

    async def message(sid, *arguments):
        # A tuple is emitted as that many arguments.
        await server.emit("message-back", arguments, to=sid, namespace=namespace)

    async def broadcast(sid, *arguments):
        await server.emit("broadcast", arguments, namespace=namespace)

    server.on("connect", connect, namespace=namespace)
    server.on("message", message, namespace=namespace)
    server.on("broadcast", broadcast, namespace=namespace)


def make_app() -> socketio.ASGIApp:
    server = socketio.AsyncServer(
        async_mode="asgi",
        cors_allowed_origins="*",
        ping_interval=25,
        ping_timeout=20,
        max_http_buffer_size=1_000_000,
        # CONNECT is answered before the connect handler runs, so the `auth` event it emits
        # comes after the namespace's CONNECT packet, as with duplex sio-echo.
        always_connect=True,
    )

    for namespace in NAMESPACES:
        register(server, namespace)

    return socketio.ASGIApp(server, socketio_path="socket.io")


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ws", default="websockets", help="uvicorn's WebSocket implementation")
    parser.add_argument("--http", default="httptools", help="uvicorn's HTTP implementation")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop", help="the event loop")
    return parser.parse_args()


async def serve(arguments: argparse.Namespace) -> None:
    # Bound here rather than by uvicorn so that port 0's choice can be printed.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((arguments.host, arguments.port))
    listener.listen(1024)
    host, port = listener.getsockname()[:2]

    config = uvicorn.Config(
        make_app(),
        ws=arguments.ws,
        http=arguments.http,
        # The event loop is the one serve() runs on (--loop).
        loop="none",
        log_level="warning",
        access_log=False,
        lifespan="off",
        backlog=1024,
        ws_max_size=1_000_000,
        # No WebSocket-level keepalive: Engine.IO's heartbeat does that job, as in duplex sio-echo.
        ws_ping_interval=None,
        ws_ping_timeout=None,
    )
    server = uvicorn.Server(config)
    print(f"listening on http://{host}:{port}", flush=True)
    await server.serve(sockets=[listener])


if __name__ == "__main__":
    arguments = parse_arguments()
    if arguments.loop == "uvloop":
        import uvloop

        uvloop.run(serve(arguments))
    else:
        asyncio.run(serve(arguments))
