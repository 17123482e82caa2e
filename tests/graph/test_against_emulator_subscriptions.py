"""Subscriptions through the Graph client; the emulator validates a loopback webhook receiver."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from calsync.emulator.control_client import EmulatorControl
from calsync.graph.client import GraphClient
from calsync.graph.errors import NotFound
from tests.fixtures.emulator import ADELE


async def _answer_handshake(request: Request) -> Response:
    token = request.query_params.get("validationToken")
    if token is not None:
        return PlainTextResponse(token)  # Graph wants the decoded token back as text/plain
    return Response(status_code=202)


@pytest.fixture(scope="module")
def webhook_url() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = Starlette(routes=[Route("/hooks/{kind}", _answer_handshake, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}/hooks"
    server.should_exit = True
    thread.join(timeout=10)


async def test_a_subscription_is_created_renewed_and_deleted(
    graph: GraphClient, control: EmulatorControl, webhook_url: str
) -> None:
    expires = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    created = await graph.create_subscription(
        ADELE,
        notification_url=f"{webhook_url}/notify",
        lifecycle_notification_url=f"{webhook_url}/lifecycle",
        client_state="calsync-7f3a",
        expires_at=expires,
    )
    assert created.client_state == "calsync-7f3a"
    assert created.resource is not None
    assert created.resource.endswith("/events")
    assert created.expiration_date_time == expires

    renewed = await graph.renew_subscription(created.id, expires_at=expires + timedelta(hours=12))
    assert renewed.expiration_date_time == expires + timedelta(hours=12)
    listed = await asyncio.to_thread(control.subscriptions)
    assert [s["id"] for s in listed] == [created.id]

    await graph.delete_subscription(created.id)
    assert await asyncio.to_thread(control.subscriptions) == []
    with pytest.raises(NotFound):
        await graph.renew_subscription(created.id, expires_at=expires)
