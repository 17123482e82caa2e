"""A webhook receiver for emulator tests: a real uvicorn server on loopback that records the
validation handshakes, notifications and lifecycle notifications it gets, and can be told to fail
the handshake or the next deliveries."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route


@dataclass
class Receiver:
    """A webhook endpoint: records validations, notifications and lifecycle notifications."""

    base_url: str = ""
    validation_mode: str = "echo"  # echo | json | status500 | slow (echo after slow_seconds)
    slow_seconds: float = 0.0
    fail_next_notifications: int = 0
    validations: list[tuple[str, str]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    lifecycle: list[dict[str, Any]] = field(default_factory=list)
    posts: int = 0

    def app(self) -> Starlette:
        async def endpoint(request: Request) -> Response:
            token = request.query_params.get("validationToken")
            if token is not None:
                self.validations.append((token, request.headers.get("content-type", "")))
                if self.validation_mode == "slow":
                    await asyncio.sleep(self.slow_seconds)
                if self.validation_mode == "json":
                    return JSONResponse({"validationToken": token})
                if self.validation_mode == "status500":
                    return Response(status_code=500)
                return PlainTextResponse(token)
            is_lifecycle = request.url.path.endswith("/lifecycle")
            self.posts += 0 if is_lifecycle else 1
            if self.fail_next_notifications > 0 and not is_lifecycle:
                self.fail_next_notifications -= 1
                return Response(status_code=503)
            body = await request.json()
            target = self.lifecycle if is_lifecycle else self.notifications
            target.extend(body["value"])
            return Response(status_code=202)

        return Starlette(
            routes=[
                Route("/notify", endpoint, methods=["POST"]),
                Route("/lifecycle", endpoint, methods=["POST"]),
            ]
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve_receiver() -> Iterator[Receiver]:
    """A receiver listening on a free loopback port until the block ends."""
    receiver = Receiver()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(receiver.app(), host="127.0.0.1", port=port, log_level="critical")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    receiver.base_url = f"http://127.0.0.1:{port}"
    try:
        yield receiver
    finally:
        server.should_exit = True
        thread.join(timeout=10)


async def eventually(condition: Any, within_seconds: float = 5.0) -> None:
    deadline = time.monotonic() + within_seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
