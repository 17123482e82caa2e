"""Webhooks against the emulator's real subscriptions: one per synced mailbox, the validation
handshake, a notification pulling its mailbox long before the schedule would, a wrong clientState
rejected, and a removed subscription replaced."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from calsync.emulator.control_client import EmulatorControl
from calsync.graph.models import Subscription
from calsync.runtime import metrics
from calsync.runtime.connection import GraphEndpoints, TenantConnection
from calsync.runtime.enablement import save_connection
from calsync.runtime.lifespan import install_sync_runtime
from calsync.runtime.secrets import SecretBox
from calsync.runtime.webhooks import (
    CLIENT_STATE,
    NOTIFICATIONS_PATH,
    REQUESTED_LIFETIME,
    SubscriptionKeeper,
    WebhookSettings,
    mailbox_of_resource,
)
from calsync.sync.storage.models import DeltaCursor
from calsync.web import WebSettings, create_app
from tests.fixtures.emulator import ADELE, MEGAN
from tests.runtime.conftest import stop_server
from tests.sync.runners.world import MAILBOXES, World, soon


class MovableClock:
    def __init__(self) -> None:
        self.ahead = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead


def wait_for(check: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not true within {seconds} s"
        time.sleep(0.05)


async def settled(check: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not true within {seconds} s"
        await asyncio.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def served(
    world: World,
    connection: TenantConnection,
    endpoints: GraphEndpoints,
    box: SecretBox,
    database_url: str,
) -> Iterator[tuple[str, MovableClock]]:
    """CalSync serving on a loopback port with webhooks on, its sync enabled."""
    with world.sessions() as session:
        save_connection(session, connection, box)
        session.commit()
    port = _free_port()
    public = f"http://127.0.0.1:{port}"
    clock = MovableClock()
    app = create_app(WebSettings(database_url=database_url))
    install_sync_runtime(
        app,
        endpoints=endpoints,
        box=box,
        webhooks=WebhookSettings(public_url=public, client_state=box.derive(CLIENT_STATE)),
        tick_seconds=0.05,
        clock=clock,
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started)
    try:
        yield public, clock
    finally:
        stop_server(server, thread)
        app.state.engine.dispose()


def _ours(control: EmulatorControl, public: str) -> dict[str, str]:
    return {
        str(mailbox_of_resource(item["resource"])): item["id"]
        for item in control.subscriptions()
        if item["notificationUrl"] == public + NOTIFICATIONS_PATH
    }


def _pulled(world: World, mailbox: str) -> bool:
    with world.sessions() as session:
        return (
            session.scalar(select(DeltaCursor.last_run_at).where(DeltaCursor.mailbox == mailbox))
            is not None
        )


async def test_a_notification_pulls_its_mailbox_long_before_the_next_scheduled_run(
    world: World, served: tuple[str, MovableClock], control: EmulatorControl
) -> None:
    public, clock = served
    await settled(lambda: set(_ours(control, public)) == {address.lower() for address in MAILBOXES})
    await asyncio.sleep(0.2)
    clock.ahead += timedelta(minutes=1)  # every mailbox's first run
    await settled(lambda: all(_pulled(world, address) for address in MAILBOXES))
    await world.outlook_create(MEGAN, "Call from the Okafors (Outlook)", soon(4))
    # The schedule's next run is about 15 minutes away; only the notification can do this.
    await settled(
        lambda: any(
            event.subject == "Call from the Okafors (Outlook)" for event in world.crm_events(MEGAN)
        )
    )


def test_the_receiver_answers_the_handshake_and_rejects_a_wrong_client_state(
    world: World, served: tuple[str, MovableClock], control: EmulatorControl
) -> None:
    public, _clock = served
    wait_for(lambda: ADELE in _ours(control, public))
    handshake = httpx.post(
        public + NOTIFICATIONS_PATH, params={"validationToken": "Validation: token 42"}
    )
    assert handshake.status_code == 200
    assert handshake.headers["content-type"].startswith("text/plain")
    assert handshake.text == "Validation: token 42"
    rejected_before = metrics.ERRORS.labels("webhook_client_state")._value.get()
    forged = {
        "value": [
            {
                "subscriptionId": _ours(control, public)[ADELE],
                "clientState": "guessed",
                "changeType": "created",
                "resource": "Users/x/Events/y",
            }
        ]
    }
    assert httpx.post(public + NOTIFICATIONS_PATH, json=forged).status_code == 202
    # Answered at once; the runtime's thread checks the batch right after.
    wait_for(
        lambda: metrics.ERRORS.labels("webhook_client_state")._value.get() == rejected_before + 1
    )
    assert httpx.post(public + NOTIFICATIONS_PATH, content=b"not json").status_code == 400


def test_a_removed_subscription_is_replaced(
    world: World, served: tuple[str, MovableClock], control: EmulatorControl
) -> None:
    public, _clock = served
    wait_for(lambda: ADELE in _ours(control, public))
    first = _ours(control, public)[ADELE]
    control.send_lifecycle_event(first, "subscriptionRemoved")
    wait_for(lambda: _ours(control, public).get(ADELE) not in (None, first))


class _Answer:
    def __init__(self, body: dict[str, object]) -> None:
        self._body = body

    def json(self) -> dict[str, object]:
        return self._body


class _RecordingGraph:
    """Graph's subscription calls, answered the way Graph answers them, and recorded."""

    def __init__(self, existing: list[dict[str, object]]) -> None:
        self.existing = existing
        self.calls: list[tuple[str, str, datetime | None]] = []
        self.transport = self
        self._next = 0

    async def list_subscriptions(self) -> AsyncIterator[Subscription]:
        for item in self.existing:
            yield Subscription.model_validate(item)

    async def create_subscription(self, mailbox: str, **options: object) -> Subscription:
        self._next += 1
        expires = options["expires_at"]
        assert isinstance(expires, datetime)
        self.calls.append(("create", mailbox, expires))
        return Subscription(id=f"sub-{self._next}", expiration_date_time=expires)

    async def renew_subscription(
        self, subscription_id: str, *, expires_at: datetime
    ) -> Subscription:
        self.calls.append(("renew", subscription_id, expires_at))
        return Subscription(id=subscription_id, expiration_date_time=expires_at)

    async def delete_subscription(self, subscription_id: str) -> None:
        self.calls.append(("delete", subscription_id, None))


SETTINGS = WebhookSettings(public_url="https://crm.harborview.example", client_state="s" * 64)
NOON = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


async def test_subscriptions_are_renewed_before_4230_minutes_and_dropped_with_the_mailbox() -> None:
    graph = _RecordingGraph(existing=[])
    keeper = SubscriptionKeeper(SETTINGS)
    await keeper.maintain(graph, [ADELE], NOON)  # type: ignore[arg-type]
    assert graph.calls == [("create", ADELE, NOON + REQUESTED_LIFETIME)]
    assert timedelta(minutes=4230) > REQUESTED_LIFETIME
    graph.calls.clear()
    await keeper.maintain(graph, [ADELE], NOON + timedelta(hours=24))  # type: ignore[arg-type]
    assert graph.calls == []  # two thirds of its life are left
    later = NOON + timedelta(hours=50)
    await keeper.maintain(graph, [ADELE], later)  # type: ignore[arg-type]
    assert graph.calls == [("renew", "sub-1", later + REQUESTED_LIFETIME)]
    graph.calls.clear()
    await keeper.maintain(graph, [], later)  # type: ignore[arg-type]
    assert graph.calls == [("delete", "sub-1", None)]
    assert keeper.mailbox_of("sub-1") is None


async def test_a_restart_adopts_its_subscriptions_instead_of_adding_more() -> None:
    graph = _RecordingGraph(
        existing=[
            {
                "id": "kept",
                "resource": "/users/adele.vance%40contoso.com/events",
                "notificationUrl": SETTINGS.notification_url,
                "expirationDateTime": (NOON + timedelta(days=2)).isoformat(),
            },
            {
                "id": "someone-elses",
                "resource": "/users/megan.bowen@contoso.com/events",
                "notificationUrl": "https://elsewhere.example/hook",
                "expirationDateTime": (NOON + timedelta(days=2)).isoformat(),
            },
        ]
    )
    keeper = SubscriptionKeeper(SETTINGS)
    await keeper.maintain(graph, [ADELE, MEGAN], NOON)  # type: ignore[arg-type]
    assert keeper.mailbox_of("kept") == ADELE
    assert [call[:2] for call in graph.calls] == [("create", MEGAN)]
