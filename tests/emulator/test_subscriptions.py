"""Change-notification subscriptions seen from a real local receiver (a uvicorn server in a thread).

The emulator runs in-process (httpx ASGITransport); its notifications go over loopback HTTP to the
receiver, which records everything and can be told to fail the handshake or the deliveries.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse

from calsync.emulator.config import EmulatorConfig
from calsync.emulator.errors import GraphApiError, error_body
from calsync.emulator.ids import IMMUTABLE_PREFIX, ItemRef, encode_id, new_key
from calsync.emulator.operations import EmulatorOperations
from calsync.emulator.operations_wiring import install_operations
from calsync.emulator.store import EmulatorStore, StoredItem
from calsync.emulator.tokens import TokenIssuer
from tests.emulator.webhook_receiver import Receiver, eventually, free_port
from tests.fixtures.emulator import ADELE, MEGAN


@dataclass
class Core:
    config: EmulatorConfig
    store: EmulatorStore
    tokens: TokenIssuer


@dataclass
class Harness:
    client: httpx.AsyncClient
    operations: EmulatorOperations
    store: EmulatorStore
    mailbox_id: str

    def write_event(self, subject: str, change: str = "created", key: str | None = None) -> str:
        """Commit an event change in Ada's mailbox the way the core's routes do."""
        start = datetime(2026, 12, 1, 9, tzinfo=UTC)
        item = StoredItem(
            key=key or new_key(),
            mailbox_id=self.mailbox_id,
            kind="singleInstance",
            ical_uid="uid-" + subject,
            start_utc=start,
            end_utc=start + timedelta(hours=1),
            data={"subject": subject, "changeKey": "ck-" + subject},
            deleted=change == "deleted",
        )
        self.store.save_item(item, change)  # type: ignore[arg-type]
        return item.key


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    """The operator side installed on an app holding the core's store (event routes not needed)."""
    config = EmulatorConfig(mailboxes=["ada@contoso.com"])
    store = EmulatorStore()
    ada = store.add_mailbox("ada@contoso.com", "Ada Lovelace")

    async def graph_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, GraphApiError)
        return JSONResponse(error_body(exc.code, exc.message, None), status_code=exc.status)

    app = Starlette(exception_handlers={GraphApiError: graph_error})
    operations = install_operations(app, Core(config, store, TokenIssuer(3599)))
    operations.subscriptions.delivery.policy = type(operations.subscriptions.delivery.policy)(
        attempt_timeout_seconds=2.0, retry_for_seconds=5.0, first_retry_delay_seconds=0.05
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator.test") as client:
        yield Harness(client, operations, store, ada.id)
    await operations.subscriptions.delivery.aclose()


def in_minutes(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def subscription_body(receiver: Receiver, **overrides: object) -> dict[str, object]:
    return {
        "changeType": "created,updated,deleted",
        "notificationUrl": f"{receiver.base_url}/notify",
        "lifecycleNotificationUrl": f"{receiver.base_url}/lifecycle",
        "resource": "/users/ada@contoso.com/events",
        "expirationDateTime": in_minutes(60),
        "clientState": "calsync-secret-42",
        **overrides,
    }


async def test_handshake_then_notifications_in_graphs_shape(
    harness: Harness, receiver: Receiver
) -> None:
    response = await harness.client.post("/v1.0/subscriptions", json=subscription_body(receiver))
    assert response.status_code == 201
    subscription = response.json()
    assert subscription["changeType"] == "created,updated,deleted"
    assert subscription["clientState"] == "calsync-secret-42"
    assert subscription["expirationDateTime"].endswith("Z")
    # One handshake per URL, text/plain, token already URL-decoded (it contains spaces).
    assert len(receiver.validations) == 2
    token, content_type = receiver.validations[0]
    assert " " in token
    assert content_type.startswith("text/plain")

    key = harness.write_event("Quarterly review")
    harness.write_event("Quarterly review (moved)", "updated", key=key)
    await eventually(lambda: len(receiver.notifications) == 2)
    created, updated = receiver.notifications
    event_id = encode_id(ItemRef(key))
    assert created["subscriptionId"] == subscription["id"]
    assert created["clientState"] == "calsync-secret-42"
    assert created["tenantId"] == "contoso.onmicrosoft.com"
    assert (created["changeType"], updated["changeType"]) == ("created", "updated")
    assert created["resource"] == f"Users/{harness.mailbox_id}/Events/{event_id}"
    assert created["resourceData"]["id"] == event_id
    assert created["resourceData"]["@odata.etag"].startswith('W/"')
    assert created["resourceData"]["@odata.etag"] != updated["resourceData"]["@odata.etag"]


@pytest.mark.parametrize("mode", ["json", "status500"])
async def test_failed_handshake_refuses_the_subscription(
    harness: Harness, receiver: Receiver, mode: str
) -> None:
    receiver.validation_mode = mode
    response = await harness.client.post("/v1.0/subscriptions", json=subscription_body(receiver))
    assert response.status_code == 400
    assert "validation" in response.json()["error"]["message"]
    assert (await harness.client.get("/v1.0/subscriptions")).json()["value"] == []


async def test_a_handshake_answered_too_late_refuses_the_subscription(
    harness: Harness, receiver: Receiver
) -> None:
    policy = harness.operations.subscriptions.delivery.policy
    assert policy.validation_timeout_seconds == 10.0  # Graph's limit, shortened for the test
    harness.operations.subscriptions.delivery.policy = replace(
        policy, validation_timeout_seconds=0.2
    )
    receiver.validation_mode, receiver.slow_seconds = "slow", 0.6
    late = await harness.client.post("/v1.0/subscriptions", json=subscription_body(receiver))
    assert late.status_code == 400
    assert late.json()["error"]["message"].startswith("notificationUrl:")
    receiver.slow_seconds = 0.05
    in_time = await harness.client.post("/v1.0/subscriptions", json=subscription_body(receiver))
    assert in_time.status_code == 201


async def test_unreachable_receiver_refuses_the_subscription(harness: Harness) -> None:
    body = subscription_body(Receiver(base_url=f"http://127.0.0.1:{free_port()}"))
    response = await harness.client.post("/v1.0/subscriptions", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("notificationUrl:")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"expirationDateTime": 4231}, "expirationDateTime"),  # minutes from now, see below
        ({"expirationDateTime": -1}, "expirationDateTime"),
        ({"notificationUrl": "http://hooks.example.com/notify"}, "notificationUrl"),
        ({"resource": "/me/events"}, "resource"),
        ({"resource": "/users/nobody@contoso.com/events"}, "resource"),
        ({"changeType": "created,moved"}, "changeType"),
        ({"clientState": "x" * 129}, "clientState"),
        ({"includeResourceData": True}, "includeResourceData"),
    ],
)
async def test_bad_subscription_is_refused_naming_the_field(
    harness: Harness, receiver: Receiver, overrides: dict[str, object], field: str
) -> None:
    minutes = overrides.get("expirationDateTime")
    if isinstance(minutes, int):  # relative to when the test runs, not when it was collected
        overrides = {**overrides, "expirationDateTime": in_minutes(minutes)}
    response = await harness.client.post(
        "/v1.0/subscriptions", json=subscription_body(receiver, **overrides)
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(f"{field}:")
    assert receiver.validations == []


async def test_renewal_is_limited_to_4230_minutes(harness: Harness, receiver: Receiver) -> None:
    created = (
        await harness.client.post("/v1.0/subscriptions", json=subscription_body(receiver))
    ).json()
    url = f"/v1.0/subscriptions/{created['id']}"
    too_long = await harness.client.patch(url, json={"expirationDateTime": in_minutes(4240)})
    renewed = await harness.client.patch(url, json={"expirationDateTime": in_minutes(4200)})
    no_lifecycle_change = await harness.client.patch(
        url, json={"lifecycleNotificationUrl": f"{receiver.base_url}/lifecycle"}
    )
    assert too_long.status_code == 400
    assert too_long.json()["error"]["message"].startswith("expirationDateTime:")
    assert renewed.status_code == 200
    assert renewed.json()["expirationDateTime"] > created["expirationDateTime"]
    assert no_lifecycle_change.status_code == 400


async def test_only_subscribed_change_types_are_sent(harness: Harness, receiver: Receiver) -> None:
    body = subscription_body(receiver, changeType="deleted")
    assert (await harness.client.post("/v1.0/subscriptions", json=body)).status_code == 201
    key = harness.write_event("Lunch")
    harness.write_event("Lunch", "deleted", key=key)
    await eventually(lambda: len(receiver.notifications) == 1)
    await asyncio.sleep(0.2)
    [deleted] = receiver.notifications
    assert deleted["changeType"] == "deleted"
    assert "@odata.etag" not in deleted["resourceData"]


async def test_subscription_made_with_immutable_ids_gets_immutable_ids(
    harness: Harness, receiver: Receiver
) -> None:
    await harness.client.post(
        "/v1.0/subscriptions",
        json=subscription_body(receiver),
        headers={"Prefer": 'IdType="ImmutableId"'},
    )
    key = harness.write_event("Board meeting")
    await eventually(lambda: len(receiver.notifications) == 1)
    assert receiver.notifications[0]["resourceData"]["id"] == encode_id(ItemRef(key), True)
    assert receiver.notifications[0]["resourceData"]["id"].startswith(IMMUTABLE_PREFIX)


async def test_failing_receiver_gets_retries_until_it_accepts(
    harness: Harness, receiver: Receiver
) -> None:
    await harness.client.post("/v1.0/subscriptions", json=subscription_body(receiver))
    receiver.fail_next_notifications = 2
    harness.write_event("Retry me")
    await eventually(lambda: len(receiver.notifications) == 1)
    await harness.operations.subscriptions.delivery.drain()
    [record] = harness.operations.subscriptions.delivery.history
    assert (record.attempts, record.delivered, record.last_status) == (3, True, 202)


async def test_receiver_down_for_good_is_given_up_and_the_subscriber_told_missed(
    harness: Harness, receiver: Receiver
) -> None:
    created = (
        await harness.client.post("/v1.0/subscriptions", json=subscription_body(receiver))
    ).json()
    harness.operations.subscriptions.delivery.policy = type(
        harness.operations.subscriptions.delivery.policy
    )(retry_for_seconds=0.3, first_retry_delay_seconds=0.05)
    receiver.fail_next_notifications = 1000
    harness.write_event("Never arrives")
    await eventually(lambda: len(receiver.lifecycle) == 1)
    assert receiver.lifecycle[0]["lifecycleEvent"] == "missed"
    assert receiver.lifecycle[0]["subscriptionId"] == created["id"]
    await harness.operations.subscriptions.delivery.drain()
    given_up, missed_sent = harness.operations.subscriptions.delivery.history
    assert not given_up.delivered
    assert 2 <= given_up.attempts == receiver.posts
    assert missed_sent.delivered
    assert receiver.notifications == []


async def test_expired_subscription_is_removed_and_silent(
    harness: Harness, receiver: Receiver
) -> None:
    created = (
        await harness.client.post("/v1.0/subscriptions", json=subscription_body(receiver))
    ).json()
    later = datetime.now(UTC) + timedelta(minutes=61)
    harness.operations.subscriptions.clock = lambda: later
    harness.write_event("After expiry")
    await asyncio.sleep(0.2)
    assert receiver.notifications == []
    gone = await harness.client.get(f"/v1.0/subscriptions/{created['id']}")
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "ResourceNotFound"


async def test_delete_stops_notifications(harness: Harness, receiver: Receiver) -> None:
    created = (
        await harness.client.post("/v1.0/subscriptions", json=subscription_body(receiver))
    ).json()
    deleted = await harness.client.delete(f"/v1.0/subscriptions/{created['id']}")
    harness.write_event("After delete")
    await asyncio.sleep(0.2)
    assert deleted.status_code == 204
    assert receiver.notifications == []
    assert (await harness.client.get(f"/v1.0/subscriptions/{created['id']}")).status_code == 404


async def test_reauthorization_required_pauses_until_reauthorize(
    harness: Harness, receiver: Receiver
) -> None:
    created = (
        await harness.client.post("/v1.0/subscriptions", json=subscription_body(receiver))
    ).json()
    sent = await harness.client.post(
        f"/_emulator/subscriptions/{created['id']}/lifecycle",
        json={"lifecycleEvent": "reauthorizationRequired"},
    )
    assert sent.status_code == 202
    await eventually(lambda: len(receiver.lifecycle) == 1)
    assert receiver.lifecycle[0]["lifecycleEvent"] == "reauthorizationRequired"
    assert receiver.lifecycle[0]["clientState"] == "calsync-secret-42"
    assert receiver.lifecycle[0]["subscriptionId"] == created["id"]

    harness.write_event("Lost in the gap")
    await asyncio.sleep(0.2)
    assert receiver.notifications == []

    reauthorized = await harness.client.post(f"/v1.0/subscriptions/{created['id']}/reauthorize")
    assert reauthorized.status_code == 204
    harness.write_event("Delivered again")
    await eventually(lambda: len(receiver.notifications) == 1)


async def test_subscription_removed_and_missed_lifecycle_events(
    harness: Harness, receiver: Receiver
) -> None:
    created = (
        await harness.client.post("/v1.0/subscriptions", json=subscription_body(receiver))
    ).json()
    lifecycle_url = f"/_emulator/subscriptions/{created['id']}/lifecycle"
    await harness.client.post(lifecycle_url, json={"lifecycleEvent": "missed"})
    await harness.client.post(lifecycle_url, json={"lifecycleEvent": "subscriptionRemoved"})
    await eventually(lambda: len(receiver.lifecycle) == 2)
    assert sorted(e["lifecycleEvent"] for e in receiver.lifecycle) == [
        "missed",
        "subscriptionRemoved",
    ]
    assert (await harness.client.get(f"/v1.0/subscriptions/{created['id']}")).status_code == 404
    unknown = await harness.client.post(lifecycle_url, json={"lifecycleEvent": "missed"})
    assert unknown.status_code == 404
    wrong = await harness.client.post(lifecycle_url, json={"lifecycleEvent": "exploded"})
    assert wrong.status_code == 400


# -- through the whole emulator: real event routes, bearer tokens, attendee copies ---------------


def meeting_with(attendee: str) -> dict[str, Any]:
    return {
        "subject": "Annual review with Contoso Advisors",
        "start": {"dateTime": "2026-12-07T09:00:00", "timeZone": "W. Europe Standard Time"},
        "end": {"dateTime": "2026-12-07T10:00:00", "timeZone": "W. Europe Standard Time"},
        "attendees": [{"emailAddress": {"address": attendee}, "type": "required"}],
    }


async def test_attendee_copy_of_a_meeting_is_notified_to_the_attendees_subscription(
    emulator_client: httpx.AsyncClient, emulator_app: Starlette, receiver: Receiver
) -> None:
    body = subscription_body(receiver, resource=f"/users/{MEGAN}/events")
    subscribed = await emulator_client.post("/subscriptions", json=body)
    assert subscribed.status_code == 201
    created = await emulator_client.post(f"/users/{ADELE}/events", json=meeting_with(MEGAN))
    assert created.status_code == 201
    await eventually(lambda: len(receiver.notifications) >= 1)
    await asyncio.sleep(0.2)
    megan_id = emulator_app.state.emulator.store.get_mailbox(MEGAN).id
    assert {n["changeType"] for n in receiver.notifications} == {"created"}
    [notification] = receiver.notifications
    assert notification["resource"].startswith(f"Users/{megan_id}/Events/")
    copy = await emulator_client.get(f"/users/{MEGAN}/events/{notification['resourceData']['id']}")
    assert copy.status_code == 200
    assert copy.json()["subject"] == "Annual review with Contoso Advisors"
    assert copy.json()["isOrganizer"] is False
    await emulator_app.state.operations.subscriptions.delivery.aclose()


async def test_subscriptions_need_a_bearer_token(
    emulator_app: Starlette, receiver: Receiver
) -> None:
    transport = httpx.ASGITransport(app=emulator_app)
    async with httpx.AsyncClient(transport=transport, base_url="https://graph.test") as client:
        reply = await client.post("/v1.0/subscriptions", json=subscription_body(receiver))
    assert reply.status_code == 401
    assert receiver.validations == []


async def test_reset_removes_subscriptions(harness: Harness, receiver: Receiver) -> None:
    await harness.client.post("/v1.0/subscriptions", json=subscription_body(receiver))
    assert (await harness.client.post("/_emulator/reset")).status_code == 204
    harness.write_event("After the reset")
    await asyncio.sleep(0.3)
    assert receiver.notifications == []
    assert (await harness.client.get("/v1.0/subscriptions")).json()["value"] == []


async def test_a_long_subscription_list_comes_in_pages_that_a_client_follows(
    harness: Harness, receiver: Receiver
) -> None:
    harness.operations.emulator.config.subscriptions_page_size = 2
    created = set()
    for _ in range(5):
        response = await harness.client.post(
            "/v1.0/subscriptions", json=subscription_body(receiver)
        )
        assert response.status_code == 201
        created.add(response.json()["id"])

    seen: list[str] = []
    link: str | None = "/v1.0/subscriptions"
    pages = 0
    while link is not None:
        page = (await harness.client.get(link)).json()
        assert len(page["value"]) <= 2
        seen.extend(item["id"] for item in page["value"])
        link = page.get("@odata.nextLink")
        pages += 1
    assert pages == 3
    assert sorted(seen) == sorted(created)

    refused = await harness.client.get("/v1.0/subscriptions", params={"$skip": "two"})
    assert refused.status_code == 400
    assert "$skip" in refused.json()["error"]["message"]
