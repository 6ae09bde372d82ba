"""Headless Chromium driven over the DevTools protocol, and the static server of the test page.

- `StaticServer`: serves Interop/browser/sio_page.html at `/` and the official JS client bundle
  (.venv-peers/socketio-js/socket.io.min.js, unpacked by scripts/lib/peers.sh) at `/socket.io.min.js`,
  on 127.0.0.1 from a thread of the test process.
- `Chromium`: the Debian `chromium` package, `--headless=new`, its own temporary profile, DevTools on
  a loopback port chosen by Chromium (read from DevToolsActivePort); stopped by PID.
- `DevToolsPage`: one page target over the DevTools WebSocket (websockets.sync.client, runner venv):
  navigate, evaluate with awaitPromise, console messages and exceptions kept for failure messages.
"""

from __future__ import annotations

import contextlib
import http.server
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from websockets.sync.client import connect as ws_connect

from harness.matrix import INTEROP_DIR, PEERS_DIR

PAGE = INTEROP_DIR / "browser" / "sio_page.html"
SOCKETIO_JS = PEERS_DIR / "socketio-js" / "socket.io.min.js"
STARTUP_TIMEOUT = 60.0


class StaticServer:
    """The test page and the JS client bundle over HTTP on 127.0.0.1 (a daemon thread)."""

    def __init__(self) -> None:
        if not SOCKETIO_JS.is_file():
            raise AssertionError(f"{SOCKETIO_JS} is missing: run ./scripts/test (scripts/lib/peers.sh unpacks it)")
        files = {"/": (PAGE.read_bytes(), "text/html; charset=utf-8"),
                 "/socket.io.min.js": (SOCKETIO_JS.read_bytes(), "text/javascript; charset=utf-8")}

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                body, content_type = files.get(self.path.split("?")[0], (b"not found", "text/plain"))
                self.send_response(200 if body != b"not found" else 404)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class DevToolsPage:
    """One page target, driven over its DevTools WebSocket."""

    def __init__(self, ws_url: str) -> None:
        self._exit = contextlib.ExitStack()
        self.ws = self._exit.enter_context(ws_connect(ws_url, max_size=None, open_timeout=10, compression=None))
        self._ids = itertools.count(1)
        self.console: list[str] = []
        self.exceptions: list[str] = []
        self.command("Runtime.enable")
        self.command("Page.enable")

    def _event(self, message: dict) -> None:
        params = message.get("params", {})
        if message.get("method") == "Runtime.consoleAPICalled":
            values = [arg.get("value", arg.get("description", "")) for arg in params.get("args", [])]
            self.console.append(f"{params.get('type')}: {' '.join(map(str, values))}")
        elif message.get("method") == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.exceptions.append(details.get("exception", {}).get("description") or details.get("text", ""))

    def command(self, method: str, params: dict | None = None, timeout: float = 10.0) -> dict:
        command_id = next(self._ids)
        self.ws.send(json.dumps({"id": command_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"DevTools {method} got no answer within {timeout}s\n{self.describe()}")
            message = json.loads(self.ws.recv(timeout=remaining))
            if message.get("id") == command_id:
                if "error" in message:
                    raise AssertionError(f"DevTools {method} failed: {message['error']}\n{self.describe()}")
                return message.get("result", {})
            self._event(message)

    def evaluate(self, expression: str, timeout: float = 10.0):
        """The value of `expression` (a promise is awaited), which must not throw."""
        result = self.command("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                   "returnByValue": True}, timeout)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression} threw: {result['exceptionDetails']}\n{self.describe()}")
        return result.get("result", {}).get("value")

    def navigate(self, url: str, ready: str, timeout: float = 20.0) -> None:
        """Loads `url` and waits until the expression `ready` is true."""
        self.console.clear()
        self.exceptions.clear()
        self.command("Page.navigate", {"url": url})
        deadline = time.monotonic() + timeout
        while not self.evaluate(f"document.readyState === 'complete' && Boolean({ready})"):
            if time.monotonic() > deadline:
                raise AssertionError(f"{url} not ready ({ready}) within {timeout}s\n{self.describe()}")
            time.sleep(0.05)

    def describe(self) -> str:
        return ("--- page console ---\n" + "\n".join(self.console[-50:]) +
                "\n--- page exceptions ---\n" + "\n".join(self.exceptions[-20:]))

    def close(self) -> None:
        self._exit.close()


class Chromium:
    """`chromium --headless=new` with DevTools on a loopback port; one page used by the tests."""

    def __init__(self) -> None:
        executable = shutil.which("chromium")
        if executable is None:
            raise AssertionError("chromium is not installed: run ./scripts/test (scripts/lib/peers.sh installs the "
                                 "Debian chromium package) or `apt-get install chromium`")
        self.profile = tempfile.TemporaryDirectory(prefix="duplex-chromium-")
        self._stderr = tempfile.TemporaryFile()
        argv = [executable, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                f"--user-data-dir={self.profile.name}", "about:blank"]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr,
                                     start_new_session=True)
        try:
            self.port = self._devtools_port()
            self.page = DevToolsPage(self._page_ws_url())
        except BaseException:
            self.stop()
            raise

    def _devtools_port(self) -> int:
        marker = Path(self.profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"chromium exited with {self.proc.returncode}\n{self.stderr_text()}")
            if marker.is_file():
                lines = marker.read_text().splitlines()
                if lines and lines[0].isdigit():
                    return int(lines[0])
            time.sleep(0.05)
        raise AssertionError(f"chromium wrote no DevToolsActivePort within {STARTUP_TIMEOUT}s\n{self.stderr_text()}")

    def _page_ws_url(self) -> str:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=5) as response:
                targets = json.load(response)
            pages = [target for target in targets if target.get("type") == "page"]
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
            time.sleep(0.1)
        raise AssertionError(f"chromium has no page target\n{self.stderr_text()}")

    def stderr_text(self, limit: int = 6000) -> str:
        self._stderr.flush()
        self._stderr.seek(0)
        data = self._stderr.read().decode("utf-8", errors="replace")
        return "--- chromium stderr ---\n" + (data if len(data) <= limit else "...\n" + data[-limit:])

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        page = getattr(self, "page", None)
        if page is not None:
            try:
                page.close()
            except Exception:
                pass
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        # Chromium's helper processes are in the session it leads (start_new_session): end the ones left.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._stderr.close()
        self.profile.cleanup()
