"""SPEC §9 through the sync service: a held mailbox says which events wait, and an administrator's
confirm or discard is carried out by the mailbox's next run."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from calsync.runtime.connection import GraphEndpoints, TenantConnection
from calsync.runtime.enablement import save_connection
from calsync.runtime.held_deletions import (
    CRM,
    HELD_EVENT_CODE,
    MICROSOFT_365,
    NothingHeldError,
    all_held_deletions,
    held_deletions,
)
from calsync.runtime.secrets import SecretBox
from calsync.runtime.service import SyncRuntime
from tests.fixtures.emulator import ADELE, MEGAN
from tests.runtime.conftest import FAST_GRAPH
from tests.sync.runners.world import World, soon


@pytest.fixture
async def runtime(
    world: World, connection: TenantConnection, endpoints: GraphEndpoints, box: SecretBox
) -> AsyncIterator[SyncRuntime]:
    """The sync service used the way `calsync sync …` uses it: enabled, not started."""
    with world.sessions() as session:
        save_connection(session, connection, box)
        session.commit()
    runtime = SyncRuntime(world.sessions, endpoints=endpoints, box=box, graph_overrides=FAST_GRAPH)
    try:
        yield runtime
    finally:
        await runtime.close()


async def _hold_six_outlook_deletions(world: World, runtime: SyncRuntime) -> None:
    created = [await world.outlook_create(ADELE, f"Client {n}", soon(n + 1)) for n in range(8)]
    await runtime.run_now(ADELE)
    assert len(world.crm_events(ADELE)) == 8
    for event in created[:6]:
        await world.outlook_delete(ADELE, event.id)
    await runtime.run_now(ADELE)


async def test_a_held_pull_lists_the_events_deleted_in_outlook_by_name(
    world: World, runtime: SyncRuntime
) -> None:
    await _hold_six_outlook_deletions(world, runtime)

    with world.sessions() as session:
        held = held_deletions(session, ADELE)
        assert held is not None
        assert held.listed
        assert "6 of the 8" in held.message
        assert sorted(event.subject for event in held.events) == [f"Client {n}" for n in range(6)]
        assert {event.would_be_deleted_from for event in held.events} == {CRM}
        assert [h.mailbox for h in all_held_deletions(session)] == [ADELE]
    assert len(world.crm_events(ADELE)) == 8  # nothing deleted while it waits


async def test_the_list_is_made_once_per_hold_not_at_every_run(
    world: World, runtime: SyncRuntime
) -> None:
    await _hold_six_outlook_deletions(world, runtime)
    await runtime.run_now(ADELE)
    await runtime.run_now(ADELE)

    assert len(world.log(HELD_EVENT_CODE)) == 6
    with world.sessions() as session:
        held = held_deletions(session, ADELE)
        assert held is not None
        assert held.count == 6


async def test_confirming_deletes_the_held_events_from_the_crm_and_clears_the_hold(
    world: World, runtime: SyncRuntime
) -> None:
    await _hold_six_outlook_deletions(world, runtime)

    assert await runtime.decide_held_deletions_now(ADELE, confirm=True)

    assert sorted(event.subject for event in world.crm_events(ADELE)) == ["Client 6", "Client 7"]
    with world.sessions() as session:
        assert held_deletions(session, ADELE) is None


async def test_discarding_keeps_the_crm_events_and_clears_the_hold(
    world: World, runtime: SyncRuntime
) -> None:
    await _hold_six_outlook_deletions(world, runtime)

    assert await runtime.decide_held_deletions_now(ADELE, confirm=False)

    assert len(world.crm_events(ADELE)) == 8
    with world.sessions() as session:
        assert held_deletions(session, ADELE) is None
    await runtime.run_now(ADELE)
    with world.sessions() as session:
        assert held_deletions(session, ADELE) is None  # the discarded deletions stay discarded


async def test_crm_deletions_held_by_the_push_are_listed_from_the_outbox(
    world: World, runtime: SyncRuntime
) -> None:
    event_ids = [world.crm_create(ADELE, f"Prospect {n}", soon(n + 1)) for n in range(8)]
    await runtime.push_once()
    for event_id in event_ids[:6]:
        world.crm_delete(event_id)

    await runtime.push_once()

    with world.sessions() as session:
        held = held_deletions(session, ADELE)
        assert held is not None
        assert [event.crm_event_id for event in held.events] == event_ids[:6]
        assert [event.subject for event in held.events] == [f"Prospect {n}" for n in range(6)]
        assert {event.would_be_deleted_from for event in held.events} == {MICROSOFT_365}
    assert await runtime.decide_held_deletions_now(ADELE, confirm=True)
    assert len(await world.outlook_events(ADELE)) == 2


async def test_a_decision_on_a_mailbox_that_holds_nothing_is_refused(
    world: World, runtime: SyncRuntime
) -> None:
    await runtime.run_now(MEGAN)

    with pytest.raises(NothingHeldError) as refused:
        await runtime.decide_held_deletions_now(MEGAN, confirm=True)

    assert refused.value.status == 409
    assert refused.value.code == "nothing_held"
    assert refused.value.field == "user_id"
