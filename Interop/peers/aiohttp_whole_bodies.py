"""A workaround for a python-engineio bug with aiohttp, applied by the aiohttp peer servers.

python-engineio's aiohttp driver hands the request's StreamReader to the polling POST handler as
`wsgi.input`, which reads it once with `read(CONTENT_LENGTH)`. aiohttp's `StreamReader.read(n)`
returns what is buffered, up to n bytes, so a body that arrives in more than one piece is cut:
the rest is dropped and the POST still answered 200 OK. Seen in 4.10.0 through 4.15.1 (a
100,000-character message sent as 30,000 bytes, a 0.2 s pause, then the rest, arrives as 29,999
characters). Our clients send each POST in one write, but a long body can still reach the server
in several reads, so without this the interop tests of our clients against python-engineio under
aiohttp fail now and then for the peer's reason. The ASGI peers are not affected.
"""

from __future__ import annotations

import asyncio


class _WholeBody:
    """`wsgi.input` whose `read(n)` waits for n bytes (or the end of the body)."""

    def __init__(self, stream) -> None:
        self._stream = stream

    async def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            return await self._stream.read()
        try:
            return await self._stream.readexactly(n)
        except asyncio.IncompleteReadError as error:
            return error.partial


def read_polling_bodies_whole() -> None:
    """Patches python-engineio's aiohttp driver; call before creating the server."""
    from engineio.async_drivers import aiohttp as driver

    original = driver._async["translate_request"]

    def translate_request(request):
        environ = original(request)
        environ["wsgi.input"] = _WholeBody(environ["wsgi.input"])
        return environ

    driver._async["translate_request"] = translate_request
