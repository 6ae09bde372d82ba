"""DEV-ONLY stand-in for the `duplex` CLI. NOT used by scripts/test or CI.

It implements the `duplex ws-echo` / `duplex ws` contract on top of websockets (new
asyncio implementation, >= 14), so the interop harness could be written before the Swift
CLI existed. Known difference from the contract (so one test fails with it): websockets
reports a TCP reset before the status line as EOF, so the fake says invalidHandshakeResponse
where the contract wants connectionReset (test_broken_handshake_response[reset-before-status-line]).

    DUPLEX_BIN=Interop/dev/fake-duplex ./.venv-peers/runner/bin/python -m pytest Interop/tests
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from http import HTTPStatus

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidMessage,
    InvalidStatus,
    InvalidURI,
    NegotiationError,
    SecurityError,
)

EXIT_BY_CATEGORY = {"usage": 2, "configuration": 2, "connection": 3, "handshake": 4, "protocolViolation": 5, "closed": 6}
CATEGORY = {
    "invalidURL": "connection", "connectionFailed": "connection", "connectionReset": "connection",
    "openingTimedOut": "connection", "handshakeRejected": "handshake", "invalidHandshakeResponse": "handshake",
    "headersTooLarge": "handshake", "negotiationFailed": "handshake", "protocolViolation": "protocolViolation",
    "invalidUTF8": "protocolViolation", "messageTooLarge": "protocolViolation", "internalError": "configuration",
}


def fail(code: str, message: str, status: int | None = None) -> int:
    status_part = f" status={status}" if status is not None else ""
    print(f"error: code={code} category={CATEGORY[code]}{status_part} message={message}", file=sys.stderr, flush=True)
    return 2 if code == "invalidURL" else EXIT_BY_CATEGORY[CATEGORY[code]]


# ---------------------------------------------------------------- ws-echo (server)


async def echo_server(args) -> int:
    offered = args.subprotocol or []

    def select_subprotocol(_connection, client_offer):
        return next((name for name in client_offer if name in offered), None)

    def process_request(connection, request):
        size = sum(len(name) + len(value) + 4 for name, value in request.headers.raw_items())
        if size > 16 * 1024:
            return connection.respond(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "too large\n")
        if request.headers.get("Sec-WebSocket-Version") not in (None, "13"):
            response = connection.respond(HTTPStatus.UPGRADE_REQUIRED, "version\n")
            response.headers["Sec-WebSocket-Version"] = "13"
            return response
        if "Sec-WebSocket-Key" not in request.headers:
            return connection.respond(HTTPStatus.BAD_REQUEST, "key\n")
        return None

    async def handler(ws):
        async for message in ws:
            if isinstance(message, str) and message.startswith("close:"):
                _, code, reason = message.split(":", 2)
                await ws.close(int(code), reason)
                return
            await ws.send(message)

    server = await serve(
        handler, args.host, args.port,
        compression=None if args.no_compression else "deflate",
        select_subprotocol=select_subprotocol if offered else None,
        process_request=process_request,
        max_size=args.max_message_size,
        ping_interval=None,
    )
    host, port = server.sockets[0].getsockname()[:2]
    print(f"listening on ws://{host}:{port}", flush=True)
    stop = asyncio.get_running_loop().create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, lambda: stop.done() or stop.set_result(None))
    await stop
    server.close()
    await server.wait_closed()
    return 0


# ---------------------------------------------------------------- ws (client)


def escape(text: str) -> str:
    out = []
    for char in text:
        if char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char == "\r":
            out.append("\\r")
        elif char == "\\":
            out.append("\\\\")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return "".join(out)


async def client(args) -> int:
    headers = []
    for header in args.header or []:
        name, _, value = header.partition(":")
        headers.append((name.strip(), value.strip()))
    try:
        ws = await connect(
            args.url,
            additional_headers=headers,
            subprotocols=args.subprotocol or None,
            compression=None if args.no_compression else "deflate",
            max_size=args.max_message_size,
            open_timeout=args.open_timeout,
            ping_interval=None,
        )
    except InvalidURI as exc:
        return fail("invalidURL", str(exc))
    except InvalidStatus as exc:
        return fail("handshakeRejected", str(exc), exc.response.status_code)
    except NegotiationError as exc:
        return fail("negotiationFailed", str(exc))
    except SecurityError as exc:
        return fail("headersTooLarge", str(exc))
    except InvalidMessage as exc:
        if isinstance(exc.__cause__, SecurityError):
            return fail("headersTooLarge", str(exc))
        if isinstance(exc.__cause__, ConnectionResetError):
            return fail("connectionReset", str(exc.__cause__))
        return fail("invalidHandshakeResponse", str(exc))
    except InvalidHandshake as exc:
        text = str(exc)
        if "subprotocol" in text or "extension" in text:
            return fail("negotiationFailed", text)
        return fail("invalidHandshakeResponse", text)
    except TimeoutError as exc:
        return fail("openingTimedOut", str(exc) or "timed out")
    except ConnectionResetError as exc:
        return fail("connectionReset", str(exc))
    except OSError as exc:
        return fail("connectionFailed", str(exc))

    extensions = ws.response.headers.get("Sec-WebSocket-Extensions") or "-"
    print(f"connected subprotocol={ws.subprotocol or '-'} extensions={extensions}", file=sys.stderr, flush=True)
    try:
        if args.echo:
            async for message in ws:
                await ws.send(message)
        else:
            await interactive(ws)
    except ConnectionClosed:
        pass
    await ws.wait_closed()
    sent, rcvd = ws.protocol.close_sent, ws.protocol.close_rcvd
    failure = {1002: "protocolViolation", 1007: "invalidUTF8", 1009: "messageTooLarge"}
    if sent is not None and sent.code in failure and (rcvd is None or ws.protocol.close_rcvd_then_sent is False):
        return fail(failure[sent.code], sent.reason or "peer violated the protocol")
    code = rcvd.code if rcvd else 1006
    reason = rcvd.reason if rcvd else ""
    print(f"closed code={code} reason={reason}", file=sys.stderr, flush=True)
    return 0 if code in (1000, 1001) else 6


async def interactive(ws) -> None:
    loop = asyncio.get_running_loop()

    async def printer():
        async for message in ws:
            if isinstance(message, str):
                print(f"< {escape(message)}", flush=True)
            else:
                print(f"< [binary {len(message)} bytes] {message.hex()}", flush=True)

    reader = asyncio.create_task(printer())
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        await ws.send(line.rstrip("\n"))
    await ws.close(1000)
    await reader


def main() -> int:
    parser = argparse.ArgumentParser(prog="duplex (dev fake)")
    commands = parser.add_subparsers(dest="command", required=True)
    echo = commands.add_parser("ws-echo")
    echo.add_argument("--host", default="127.0.0.1")
    echo.add_argument("--port", type=int, default=0)
    echo.add_argument("--max-message-size", type=int, default=64 << 20)
    echo.add_argument("--no-compression", action="store_true")
    echo.add_argument("--subprotocol", action="append")
    ws = commands.add_parser("ws")
    ws.add_argument("url")
    ws.add_argument("--echo", action="store_true")
    ws.add_argument("--header", action="append")
    ws.add_argument("--subprotocol", action="append")
    ws.add_argument("--no-compression", action="store_true")
    ws.add_argument("--max-message-size", type=int, default=64 << 20)
    ws.add_argument("--open-timeout", type=float, default=10)
    args = parser.parse_args()
    return asyncio.run(echo_server(args) if args.command == "ws-echo" else client(args))


if __name__ == "__main__":
    sys.exit(main())
