"""The `duplex sio-echo` contract implemented with python-socketio 5.x's AsyncServer: the reference the
interop tests are proven against, and the server our Socket.IO client is tested against. Shared by
sio_server_asgi.py (uvicorn) and sio_server_aiohttp.py.

Semantics (helpers/SOCKETIO_CONTRACT.md, `duplex sio-echo`), at /socket.io/:

- namespaces `/` and `/custom`; any other is refused with CONNECT_ERROR {"message":"Invalid namespace"};
- a CONNECT payload with key "reject" is refused with {"message":"Unauthorized","data":<its value>};
  otherwise the socket gets `auth` with the CONNECT payload (or {}) right after it is connected;
- `message` -> `message-back` (same arguments), `message-with-ack` -> acknowledged with the same
  arguments, `broadcast` -> `broadcast` to the whole namespace (sender included);
- `join`/`leave` [room] (ack [room]), `to-room` [room, arg...] -> `room-message` [arg...] to the room
  (ack []), `ack-me` [arg...] -> `ack-request` [arg...] with an ack (5 s), then `ack-result` with the
  reply's arguments or `ack-timeout` []; `disconnect-me` -> server-side disconnect of the socket.

Not implemented (no test of this suite needs them against the reference): the bare Engine.IO echo
at /engine.io/ and --allow-eio3 (python-socketio 5.x has no Engine.IO v3).

The program prints ``listening on http://127.0.0.1:PORT`` once ready, then one JSON line per fact the
tests may check (binary written as {"_binary": base64}):

    {"record": "connect", "namespace", "sid", "auth", "transport"}
    {"record": "refused", "namespace", "auth", "message"}
    {"record": "event", "namespace", "sid", "event", "args"}
    {"record": "disconnect", "namespace", "sid", "reason"}
"""

from __future__ import annotations

import argparse
import asyncio
from importlib.metadata import version

import socketio

from sio_common import emit_record, to_json

NAMESPACES = ("/", "/custom")
ACK_REQUEST_TIMEOUT = 5.0
CONNECTED_WAIT = 5.0


def parse_arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--ping-interval", type=int, default=25_000, help="milliseconds")
    parser.add_argument("--ping-timeout", type=int, default=20_000, help="milliseconds")
    parser.add_argument("--max-payload", type=int, default=1_000_000, help="bytes")
    return parser.parse_args()


class EchoServer:
    """The python-socketio AsyncServer and its handlers (every namespace, filtered in `connect`)."""

    def __init__(self, async_mode: str, arguments: argparse.Namespace) -> None:
        self.sio = socketio.AsyncServer(
            async_mode=async_mode,
            namespaces="*",
            cors_allowed_origins="*",
            logger=False,
            engineio_logger=False,
            ping_interval=arguments.ping_interval / 1000,
            ping_timeout=arguments.ping_timeout / 1000,
            max_http_buffer_size=arguments.max_payload,
        )
        self.tasks: set[asyncio.Task] = set()
        handlers = {
            "connect": self.on_connect,
            "disconnect": self.on_disconnect,
            "message": self.on_message,
            "message-with-ack": self.on_message_with_ack,
            "broadcast": self.on_broadcast,
            "join": self.on_join,
            "leave": self.on_leave,
            "to-room": self.on_to_room,
            "ack-me": self.on_ack_me,
            "disconnect-me": self.on_disconnect_me,
        }
        for event, handler in handlers.items():
            self.sio.on(event, handler, namespace="*")

    @property
    def version(self) -> str:
        return version("python-socketio")

    def spawn(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def record_event(self, namespace: str, sid: str, event: str, args: tuple) -> None:
        emit_record({"record": "event", "namespace": namespace, "sid": sid, "event": event, "args": to_json(args)})

    async def on_connect(self, namespace, sid, environ, auth=None):
        if namespace not in NAMESPACES:
            emit_record({"record": "refused", "namespace": namespace, "auth": to_json(auth),
                         "message": "Invalid namespace"})
            raise socketio.exceptions.ConnectionRefusedError("Invalid namespace")
        if isinstance(auth, dict) and "reject" in auth:
            emit_record({"record": "refused", "namespace": namespace, "auth": to_json(auth), "message": "Unauthorized"})
            raise socketio.exceptions.ConnectionRefusedError("Unauthorized", auth["reject"])
        emit_record({"record": "connect", "namespace": namespace, "sid": sid, "auth": to_json(auth),
                     "transport": self.sio.transport(sid, namespace)})
        # python-socketio sends the CONNECT reply after this handler returns: `auth` must follow it.
        self.spawn(self.emit_auth_when_connected(namespace, sid, auth if auth is not None else {}))

    async def emit_auth_when_connected(self, namespace: str, sid: str, auth) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CONNECTED_WAIT
        while not self.sio.manager.is_connected(sid, namespace):
            if loop.time() > deadline:
                return
            await asyncio.sleep(0.005)
        await self.sio.emit("auth", auth, to=sid, namespace=namespace)

    async def on_disconnect(self, namespace, sid, reason=None):
        emit_record({"record": "disconnect", "namespace": namespace, "sid": sid, "reason": reason})

    async def on_message(self, namespace, sid, *args):
        self.record_event(namespace, sid, "message", args)
        await self.sio.emit("message-back", args, to=sid, namespace=namespace)

    async def on_message_with_ack(self, namespace, sid, *args):
        self.record_event(namespace, sid, "message-with-ack", args)
        return tuple(args)

    async def on_broadcast(self, namespace, sid, *args):
        self.record_event(namespace, sid, "broadcast", args)
        await self.sio.emit("broadcast", args, namespace=namespace)

    async def on_join(self, namespace, sid, *args):
        self.record_event(namespace, sid, "join", args)
        await self.sio.enter_room(sid, args[0], namespace=namespace)
        return (args[0],)

    async def on_leave(self, namespace, sid, *args):
        self.record_event(namespace, sid, "leave", args)
        await self.sio.leave_room(sid, args[0], namespace=namespace)
        return (args[0],)

    async def on_to_room(self, namespace, sid, *args):
        self.record_event(namespace, sid, "to-room", args)
        await self.sio.emit("room-message", tuple(args[1:]), room=args[0], namespace=namespace)
        return ()

    async def on_ack_me(self, namespace, sid, *args):
        self.record_event(namespace, sid, "ack-me", args)
        self.spawn(self.request_ack(namespace, sid, args))

    async def request_ack(self, namespace: str, sid: str, args: tuple) -> None:
        reply: asyncio.Future = asyncio.get_running_loop().create_future()

        def on_reply(*reply_args):
            if not reply.done():
                reply.set_result(reply_args)

        await self.sio.emit("ack-request", args, to=sid, namespace=namespace, callback=on_reply)
        try:
            reply_args = await asyncio.wait_for(reply, ACK_REQUEST_TIMEOUT)
        except asyncio.TimeoutError:
            await self.sio.emit("ack-timeout", (), to=sid, namespace=namespace)
        else:
            await self.sio.emit("ack-result", tuple(reply_args), to=sid, namespace=namespace)

    async def on_disconnect_me(self, namespace, sid, *args):
        self.record_event(namespace, sid, "disconnect-me", args)
        await self.sio.disconnect(sid, namespace=namespace)
