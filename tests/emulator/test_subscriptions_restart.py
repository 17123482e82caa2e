"""Subscriptions survive a restart of `calsync emulator --state FILE`: the restarted server knows
them for GET/PATCH/DELETE and notifies them with the same clientState, URL and id form."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from calsync.emulator.server import EmulatorServer
from tests.emulator.webhook_receiver import Receiver, eventually
from tests.fixtures.emulator import ADELE, MEGAN, make_emulator_config, token_form


def in_minutes(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def server_on(state: Path) -> EmulatorServer:
    return EmulatorServer(make_emulator_config(state_path=state), tls=False).start()


def graph_client(server: EmulatorServer) -> httpx.AsyncClient:
    config = server.emulator.config
    token = httpx.post(
        f"{server.base_url}/{config.tenant}/oauth2/v2.0/token", data=token_form(config)
    ).json()["access_token"]
    return httpx.AsyncClient(
        base_url=server.graph_url, headers={"Authorization": f"Bearer {token}"}
    )


def meeting(subject: str) -> dict[str, Any]:
    return {
        "subject": subject,
        "start": {"dateTime": "2026-12-09T10:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2026-12-09T11:00:00", "timeZone": "UTC"},
    }


async def test_a_restarted_emulator_still_knows_and_notifies_its_subscriptions(
    tmp_path: Path, receiver: Receiver
) -> None:
    state = tmp_path / "emulator.sqlite"
    first = server_on(state)
    try:
        async with graph_client(first) as graph:
            made = await graph.post(
                "/subscriptions",
                json={
                    "changeType": "created,updated",
                    "notificationUrl": f"{receiver.base_url}/notify",
                    "lifecycleNotificationUrl": f"{receiver.base_url}/lifecycle",
                    "resource": f"/users/{ADELE}/events",
                    "expirationDateTime": in_minutes(600),
                    "clientState": "kept-across-restarts",
                },
                headers={"Prefer": 'IdType="ImmutableId"'},
            )
            assert made.status_code == 201, made.text
            other = await graph.post(
                "/subscriptions",
                json={
                    "changeType": "created",
                    "notificationUrl": f"{receiver.base_url}/notify",
                    "resource": f"/users/{MEGAN}/events",
                    "expirationDateTime": in_minutes(600),
                },
            )
            assert other.status_code == 201
    finally:
        first.stop()
        first.emulator.store.close()
    subscription = made.json()
    validations_before_restart = len(receiver.validations)

    second = server_on(state)
    try:
        async with graph_client(second) as graph:
            listed = (await graph.get("/subscriptions")).json()["value"]
            assert {s["id"] for s in listed} == {subscription["id"], other.json()["id"]}
            again = (await graph.get(f"/subscriptions/{subscription['id']}")).json()
            for name in (
                "resource",
                "changeType",
                "clientState",
                "notificationUrl",
                "lifecycleNotificationUrl",
                "expirationDateTime",
            ):
                assert again[name] == subscription[name], name

            created = await graph.post(f"/users/{ADELE}/events", json=meeting("After restart"))
            assert created.status_code == 201
            await eventually(lambda: len(receiver.notifications) == 1)
            [notification] = receiver.notifications
            assert notification["subscriptionId"] == subscription["id"]
            assert notification["clientState"] == "kept-across-restarts"
            assert notification["changeType"] == "created"
            assert notification["resourceData"]["id"].startswith("AAkALg")  # immutable, as made
            assert len(receiver.validations) == validations_before_restart  # no new handshake

            renewed = await graph.patch(
                f"/subscriptions/{subscription['id']}",
                json={"expirationDateTime": in_minutes(900)},
            )
            assert renewed.status_code == 200
            assert renewed.json()["expirationDateTime"] > subscription["expirationDateTime"]
            deleted = await graph.delete(f"/subscriptions/{other.json()['id']}")
            assert deleted.status_code == 204
    finally:
        second.stop()
        second.emulator.store.close()

    third = server_on(state)  # the renewal and the deletion were kept too
    try:
        async with graph_client(third) as graph:
            [kept] = (await graph.get("/subscriptions")).json()["value"]
            assert kept["id"] == subscription["id"]
            assert kept["expirationDateTime"] == renewed.json()["expirationDateTime"]
            await graph.post(f"/users/{MEGAN}/events", json=meeting("Nobody listens"))
            await asyncio.sleep(0.3)
            assert len(receiver.notifications) == 1
    finally:
        third.stop()
        third.emulator.store.close()


async def test_a_subscription_that_expired_while_the_emulator_was_down_is_gone(
    tmp_path: Path, receiver: Receiver
) -> None:
    state = tmp_path / "emulator.sqlite"
    first = server_on(state)
    try:
        async with graph_client(first) as graph:
            made = await graph.post(
                "/subscriptions",
                json={
                    "changeType": "created",
                    "notificationUrl": f"{receiver.base_url}/notify",
                    "resource": f"/users/{ADELE}/events",
                    "expirationDateTime": in_minutes(60),
                },
            )
            assert made.status_code == 201
    finally:
        first.stop()
        first.emulator.store.close()
    second = server_on(state)
    later = datetime.now(UTC) + timedelta(minutes=61)
    second.app.state.operations.subscriptions.clock = lambda: later
    try:
        async with graph_client(second) as graph:
            gone = await graph.get(f"/subscriptions/{made.json()['id']}")
            assert gone.status_code == 404
            await graph.post(f"/users/{ADELE}/events", json=meeting("Too late"))
            await asyncio.sleep(0.3)
            assert receiver.notifications == []
    finally:
        second.stop()
        second.emulator.store.close()
    third = server_on(state)  # its removal was written: with the real clock it would still live
    try:
        async with graph_client(third) as graph:
            assert (await graph.get("/subscriptions")).json()["value"] == []
    finally:
        third.stop()
        third.emulator.store.close()


async def test_a_subscription_paused_for_reauthorization_stays_paused_across_a_restart(
    tmp_path: Path, receiver: Receiver
) -> None:
    state = tmp_path / "emulator.sqlite"
    first = server_on(state)
    try:
        async with graph_client(first) as graph:
            made = await graph.post(
                "/subscriptions",
                json={
                    "changeType": "created",
                    "notificationUrl": f"{receiver.base_url}/notify",
                    "lifecycleNotificationUrl": f"{receiver.base_url}/lifecycle",
                    "resource": f"/users/{ADELE}/events",
                    "expirationDateTime": in_minutes(600),
                },
            )
            sent = await graph.post(
                f"{first.base_url}/_emulator/subscriptions/{made.json()['id']}/lifecycle",
                json={"lifecycleEvent": "reauthorizationRequired"},
            )
            assert sent.status_code == 202
            await eventually(lambda: len(receiver.lifecycle) == 1)
    finally:
        first.stop()
        first.emulator.store.close()
    second = server_on(state)
    try:
        async with graph_client(second) as graph:
            await graph.post(f"/users/{ADELE}/events", json=meeting("Lost in the gap"))
            await asyncio.sleep(0.3)
            assert receiver.notifications == []
            resumed = await graph.post(f"/subscriptions/{made.json()['id']}/reauthorize")
            assert resumed.status_code == 204
            await graph.post(f"/users/{ADELE}/events", json=meeting("Delivered again"))
            await eventually(lambda: len(receiver.notifications) == 1)
    finally:
        second.stop()
        second.emulator.store.close()
