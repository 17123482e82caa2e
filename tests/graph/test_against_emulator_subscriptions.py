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
from calsync.emulator.server import EmulatorServer
from calsync.graph.client import GraphClient
from calsync.graph.errors import NotFound
from calsync.runtime.webhooks import SubscriptionKeeper, WebhookSettings
from tests.fixtures.emulator import ADELE, LEE, MEGAN


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
    app = Starlette(routes=[Route("/hooks/{kind:path}", _answer_handshake, methods=["POST"])])
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


async def test_every_page_of_a_long_subscription_list_is_read_and_adopted(
    graph: GraphClient, emulator_server: EmulatorServer, webhook_url: str
) -> None:
    emulator_server.emulator.config.subscriptions_page_size = 2
    settings = WebhookSettings(public_url=webhook_url, client_state="calsync-7f3a")
    expires = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    created = {}
    for mailbox in (ADELE, MEGAN, LEE):
        subscription = await graph.create_subscription(
            mailbox,
            notification_url=settings.notification_url,
            lifecycle_notification_url=settings.lifecycle_url,
            client_state=settings.client_state,
            expires_at=expires,
        )
        created[subscription.id] = mailbox

    listed = [subscription.id async for subscription in graph.list_subscriptions()]
    assert sorted(listed) == sorted(created)

    # A restarted service takes over all of them, the last page's too.
    keeper = SubscriptionKeeper(settings)
    await keeper.adopt(graph)
    assert {sid: keeper.mailbox_of(sid) for sid in created} == created
