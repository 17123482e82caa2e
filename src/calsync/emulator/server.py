"""Running the emulator on a loopback port in a background thread (tests, `make demo`, the CLI)."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

import uvicorn
from starlette.applications import Starlette

from calsync.emulator.app import create_app
from calsync.emulator.config import EmulatorConfig
from calsync.emulator.emulator import Emulator
from calsync.emulator.tls import generate_credentials

HOST = "127.0.0.1"


class EmulatorServerError(RuntimeError):
    """The emulator could not start (port taken, thread died) — the message says which."""

    code = "emulator_start_failed"


class EmulatorServer:
    """A uvicorn server for one emulator; use as a context manager or call start()/stop().

    With `tls`, a CA and server certificate are generated and the CA PEM is written to `ca_path`
    (a temporary file when not given), which clients pass as `verify=`. `port=0` picks a free port.
    """

    def __init__(
        self,
        config: EmulatorConfig,
        tls: bool = True,
        ca_path: Path | None = None,
        port: int = 0,
        host: str = HOST,
    ) -> None:
        self.config = config
        self.tls = tls
        self.host = host
        self.port = port
        self._ca_path = ca_path
        self._temp: tempfile.TemporaryDirectory[str] | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.emulator = Emulator.from_config(config)
        self.app: Starlette = create_app(config, self.emulator)

    @property
    def base_url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def graph_url(self) -> str:
        return self.base_url + "/v1.0"

    @property
    def ca_path(self) -> Path | None:
        return self._ca_path if self.tls else None

    def start(self) -> EmulatorServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise EmulatorServerError(f"cannot listen on {self.host}:{self.port}: {exc}") from exc
        self.port = sock.getsockname()[1]
        self.config.public_base_url = self.base_url
        certfile: str | None = None
        keyfile: str | None = None
        if self.tls:
            self._temp = tempfile.TemporaryDirectory(prefix="calsync-emulator-")
            work = Path(self._temp.name)
            self._ca_path = self._ca_path or work / "emulator-ca.pem"
            credentials = generate_credentials(self._ca_path, work)
            certfile, keyfile = str(credentials.cert_path), str(credentials.key_path)
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=1,
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
        )
        self._server = uvicorn.Server(config)
        server = self._server
        self._thread = threading.Thread(
            target=lambda: server.run(sockets=[sock]), name="calsync-emulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise EmulatorServerError("the emulator server thread did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=3)
            if self._thread.is_alive() and self._server is not None:
                # Idle keep-alive connections can hold a graceful shutdown open; cut them.
                self._server.force_exit = True
                self._thread.join(timeout=5)
        self._server = None
        self._thread = None
        if self._temp is not None:
            self._temp.cleanup()
            self._temp = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
