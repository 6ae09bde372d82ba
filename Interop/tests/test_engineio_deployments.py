"""DESIGN.md, "What users were bitten by" 2: legitimate polling -> WebSocket upgrades succeed in
every deployment mode, with an unmodified python-engineio client (latest).

Modes: standalone `duplex eio-echo`; mounted in Hummingbird (`eio-echo-hummingbird`) and in Vapor
(`eio-echo-vapor`), at `/engine.io/` and under the sub-path `/api/realtime/engine.io/`; and behind
an nginx reverse proxy (Debian's package, run here as our own process) in front of
`duplex eio-echo`, at the same path and with the sub-path rewritten to `/engine.io/`.

In each mode: several clients at once connect over polling, upgrade, and exchange text, binary,
large and ordered messages, ending on transport `websocket`; and a WebSocket upgrade for an unknown
sid is refused with 400 before the 101.

The integration executables are built by scripts/test-integrations; their paths come from
DUPLEX_EIO_ECHO_HUMMINGBIRD and DUPLEX_EIO_ECHO_VAPOR (default: the packages' debug builds).
nginx is installed with apt-get when missing; if it cannot be, the nginx modes fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.matrix import PEERS_DIR, REPO_DIR
from harness.processes import STARTUP_TIMEOUT, LineProcess
from peers.raw_peers import RawClient

LISTENING = re.compile(r"^listening on http://(?P<host>[^\s:]+):(?P<port>\d+)$")
ENGINEIO_LATEST = PEERS_DIR / "peer-engineio-latest" / "bin" / "python"
SUB_PATH = "/api/realtime/engine.io/"
CLIENTS = 8  # concurrent python-engineio clients per mode
PEER_TIMEOUT = 90.0

INTEGRATION_BINARIES = {
    "hummingbird": ("DUPLEX_EIO_ECHO_HUMMINGBIRD", REPO_DIR / "Integrations/DuplexHummingbird/.build/debug/eio-echo-hummingbird"),
    "vapor": ("DUPLEX_EIO_ECHO_VAPOR", REPO_DIR / "Integrations/DuplexVapor/.build/debug/eio-echo-vapor"),
}

# The client: CLIENTS python-engineio AsyncClients at once, each connecting with polling and
# websocket allowed (python-engineio upgrades right after the polling handshake), then echoing.
CLIENT_PROGRAM = textwrap.dedent(
    """
    import asyncio, json, sys
    from importlib import metadata
    import engineio

    URL, PATH, CLIENTS = sys.argv[1], sys.argv[2], int(sys.argv[3])
    LARGE = ("0123456789abcdef" * 6250)[:100_000]
    MESSAGES = ["hello", "unicode: é € 😀", bytes.fromhex("0001027f80feff"), LARGE] + [f"ordered-{i}" for i in range(50)]

    async def one(index):
        client = engineio.AsyncClient()
        received = asyncio.Queue()

        @client.on("message")
        async def on_message(data):
            await received.put(data)

        report = {"client": index, "connected": False}
        try:
            await asyncio.wait_for(client.connect(URL, transports=["polling", "websocket"], engineio_path=PATH), 30)
            report["connected"] = True
            report["transport_after_connect"] = client.transport()
            for message in MESSAGES:
                await client.send(message)
            got = [await asyncio.wait_for(received.get(), 30) for _ in MESSAGES]
            report["echoed_in_order"] = got == MESSAGES
            report["types"] = [type(item).__name__ for item in got[:3]]
            report["transport"] = client.transport()
            await client.disconnect()
        except Exception as exc:
            report["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            if getattr(client, "http", None) is not None and not client.http.closed:
                await client.http.close()
        return report

    async def main():
        reports = await asyncio.gather(*(one(index) for index in range(CLIENTS)))
        print(json.dumps({"version": metadata.version("python-engineio"), "clients": reports}), flush=True)

    asyncio.run(main())
    """
)


# MARK: - Servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_accepting(port: int, process: LineProcess | subprocess.Popen, describe: Callable[[], str]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if (process.poll() if isinstance(process, subprocess.Popen) else (None if process.alive else 1)) is not None:
            raise AssertionError(f"exited before accepting connections:\n{describe()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"port {port} accepted no connection within {STARTUP_TIMEOUT}s:\n{describe()}")


class EchoServer:
    """An Engine.IO echo server that prints 'listening on http://HOST:PORT'."""

    def __init__(self, argv: list[str | os.PathLike], name: str) -> None:
        self.process = LineProcess(argv, name)
        try:
            line = self.process.next_line(STARTUP_TIMEOUT)
            match = LISTENING.match(line)
            if not match:
                raise AssertionError(f"expected 'listening on http://HOST:PORT', got {line!r}: {self.process.describe()}")
            self.port = int(match["port"])
        except BaseException:
            self.process.stop()
            raise

    @property
    def alive(self) -> bool:
        return self.process.alive

    def describe(self) -> str:
        return self.process.describe()

    def stop(self) -> None:
        self.process.stop()


def ensure_nginx() -> str:
    """The nginx executable; Debian's nginx-light is installed (non-interactively) if missing."""
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
    if found:
        return found
    if shutil.which("apt-get") is None:
        pytest.fail("nginx is not installed and apt-get is not available to install it")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "nginx-light"]
    attempts = []
    for command in (install, ["apt-get", "update"], install):
        result = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
        attempts.append(f"$ {' '.join(command)} -> exit {result.returncode}\n{result.stderr[-2000:]}")
        if command is install and result.returncode == 0:
            break
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if not found:
        pytest.fail("could not install nginx (Debian package nginx-light):\n" + "\n".join(attempts))
    return found


class NginxProxy:
    """nginx in the foreground (`daemon off`, prefix in a temporary directory) on a free loopback
    port, proxying `/engine.io/` and SUB_PATH to `/engine.io/` of an upstream on 127.0.0.1."""

    def __init__(self, upstream_port: int) -> None:
        self.nginx = ensure_nginx()
        self.directory = tempfile.TemporaryDirectory(prefix="duplex-nginx-")
        prefix = Path(self.directory.name)
        # nginx started as root runs its workers as `nobody`: they must reach the temp paths.
        prefix.chmod(0o755)
        self.port = free_port()
        proxy = textwrap.dedent(
            f"""
                proxy_pass http://127.0.0.1:{upstream_port}/engine.io/;
                proxy_http_version 1.1;
                proxy_set_header Upgrade $http_upgrade;
                proxy_set_header Connection $connection_upgrade;
                proxy_set_header Host $host;
                proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                proxy_set_header X-Forwarded-Proto $scheme;
                proxy_buffering off;
                proxy_request_buffering off;
                proxy_read_timeout 120s;
            """
        )
        config = textwrap.dedent(
            f"""
            daemon off;
            worker_processes 1;
            pid {prefix}/nginx.pid;
            error_log {prefix}/error.log info;
            events {{ worker_connections 512; }}
            http {{
                access_log {prefix}/access.log;
                client_max_body_size 2m;
                client_body_temp_path {prefix}/client_body;
                proxy_temp_path {prefix}/proxy;
                fastcgi_temp_path {prefix}/fastcgi;
                uwsgi_temp_path {prefix}/uwsgi;
                scgi_temp_path {prefix}/scgi;
                map $http_upgrade $connection_upgrade {{
                    default upgrade;
                    '' close;
                }}
                server {{
                    listen 127.0.0.1:{self.port};
                    location /engine.io/ {{ {proxy} }}
                    location {SUB_PATH} {{ {proxy} }}
                }}
            }}
            """
        )
        (prefix / "nginx.conf").write_text(config)
        self.stderr = tempfile.TemporaryFile()
        self.argv = [self.nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")]
        self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=self.stderr, start_new_session=True)
        try:
            wait_until_accepting(self.port, self.process, self.describe)
        except BaseException:
            self.stop()
            raise

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def describe(self) -> str:
        error_log = Path(self.directory.name) / "error.log"
        log = error_log.read_text(errors="replace")[-4000:] if error_log.exists() else ""
        self.stderr.seek(0)
        stderr = self.stderr.read().decode(errors="replace")[-2000:]
        status = "running" if self.alive else f"exited with {self.process.returncode}"
        return f"nginx ({status}): {' '.join(map(str, self.argv))}\n--- stderr ---\n{stderr}\n--- error.log ---\n{log}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # SIGTERM: nginx's fast shutdown, workers included
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.stderr.close()
        self.directory.cleanup()


def integration_binary(framework: str) -> Path:
    variable, default = INTEGRATION_BINARIES[framework]
    path = Path(os.environ.get(variable, default))
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"{path} is not an executable: build it with scripts/test-integrations (or set {variable})")
    return path


# MARK: - Deployment modes


@dataclass
class Deployment:
    """A running deployment: where clients connect, and what to show when a test fails."""

    port: int
    path: str
    describe: Callable[[], str]
    alive: Callable[[], bool]


@dataclass(frozen=True)
class Mode:
    name: str
    server: str  # "duplex", "hummingbird" or "vapor"
    path: str
    behind_nginx: bool = False


MODE_LIST = [
    Mode("standalone", "duplex", "/engine.io/"),
    Mode("hummingbird", "hummingbird", "/engine.io/"),
    Mode("hummingbird-sub-path", "hummingbird", SUB_PATH),
    Mode("vapor", "vapor", "/engine.io/"),
    Mode("vapor-sub-path", "vapor", SUB_PATH),
    Mode("nginx", "duplex", "/engine.io/", behind_nginx=True),
    Mode("nginx-sub-path", "duplex", SUB_PATH, behind_nginx=True),
]
# The Hummingbird and Vapor modes need the integration packages' executables, whose cold build
# does not fit in scripts/test's time budget: scripts/test deselects them (`-m "not framework"`,
# reported by pytest as deselected), scripts/test-integrations builds the packages and runs them.
MODES = [
    pytest.param(mode, id=mode.name, marks=[pytest.mark.framework] if mode.server in INTEGRATION_BINARIES else [])
    for mode in MODE_LIST
]


@pytest.fixture(scope="module")
def deployments(duplex_bin) -> Iterator[Callable[[Mode], Deployment]]:
    """deployments(mode) -> the running deployment (started once per module, stopped at its end)."""
    running: dict[Mode, Deployment] = {}
    stoppers: list[Callable[[], None]] = []

    def start(mode: Mode) -> Deployment:
        if mode in running:
            return running[mode]
        if mode.server == "duplex":
            argv = [duplex_bin, "eio-echo", "--host", "127.0.0.1", "--port", "0", "--log-level", "debug"]
            name = "duplex eio-echo"
        else:
            argv = [integration_binary(mode.server), "--host", "127.0.0.1", "--port", "0", "--path", mode.path]
            name = f"eio-echo-{mode.server}"
        server = EchoServer(argv, name)
        stoppers.append(server.stop)
        if mode.behind_nginx:
            proxy = NginxProxy(server.port)
            stoppers.append(proxy.stop)
            deployment = Deployment(
                proxy.port, mode.path, lambda: f"{proxy.describe()}\n{server.describe()}",
                lambda: proxy.alive and server.alive,
            )
        else:
            deployment = Deployment(server.port, mode.path, server.describe, lambda: server.alive)
        running[mode] = deployment
        return deployment

    yield start
    for stop in reversed(stoppers):
        stop()


def run_clients(deployment: Deployment) -> dict:
    assert ENGINEIO_LATEST.exists(), f"peer venv missing: {ENGINEIO_LATEST} (run scripts/test)"
    url = f"http://127.0.0.1:{deployment.port}"
    argv = [str(ENGINEIO_LATEST), "-W", "ignore", "-c", CLIENT_PROGRAM, url, deployment.path, str(CLIENTS)]
    try:
        completed = subprocess.run(argv, capture_output=True, encoding="utf-8", errors="replace", timeout=PEER_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"python-engineio clients did not finish in {PEER_TIMEOUT}s\n{deployment.describe()}") from exc
    lines = completed.stdout.strip().splitlines()
    assert completed.returncode == 0 and lines, (
        f"python-engineio clients failed (exit {completed.returncode})\n--- stdout ---\n{completed.stdout[-3000:]}"
        f"--- stderr ---\n{completed.stderr[-4000:]}\n{deployment.describe()}")
    report = json.loads(lines[-1])
    report["_context"] = f"--- client stderr ---\n{completed.stderr[-3000:]}\n{deployment.describe()}"
    return report


@pytest.mark.parametrize("mode", MODES)
def test_python_engineio_upgrades_and_messages_flow(mode, deployments):
    """protocol.md 4.1.7: every python-engineio client upgrades to WebSocket (none stays on
    polling), and text, binary, a 100 kB message and 50 ordered messages echo back in order."""
    deployment = deployments(mode)
    report = run_clients(deployment)
    failures = [client for client in report["clients"]
                if not (client["connected"] and client.get("transport") == "websocket" and client.get("echoed_in_order"))]
    assert not failures, f"{len(failures)}/{CLIENTS} clients failed in mode {mode.name}: {failures[:3]}\n{report['_context']}"
    for client in report["clients"]:
        assert client["transport_after_connect"] == "websocket", client
        assert client["types"] == ["str", "str", "bytes"], client
    assert deployment.alive(), deployment.describe()


@pytest.mark.parametrize("mode", MODES)
def test_upgrade_for_unknown_sid_is_refused(mode, deployments):
    """protocol.md 4.1.1/4.1.7: a WebSocket upgrade naming a session that does not exist is refused
    with 400 before the 101, in every mode (through the proxy too)."""
    deployment = deployments(mode)
    target = f"{deployment.path}?EIO=4&transport=websocket&sid=AAAAAAAAAAAAAAAAAAAA"
    with RawClient(deployment.port, target) as client:
        assert client.status == 400, f"{client.status_line}\n{deployment.describe()}"
    assert deployment.alive(), deployment.describe()
