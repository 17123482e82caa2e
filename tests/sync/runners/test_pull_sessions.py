"""The pull holds no database connection while it waits for Microsoft 365, so the API and the push
worker can save at any moment of a run; what the CRM saved meanwhile is never overwritten by a plan
made before it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text

from calsync.crm.database import create_database_engine, create_session_factory
from calsync.graph.client import GraphClient
from tests.fixtures.emulator import ADELE
from tests.sync.runners.world import World, soon, weekly

WATCHED = ("get_event", "get_series_masters", "update_event", "cancel_event", "delete_event")


class WatchedGraph:
    """The engine's Graph client, calling `on_call(name)` as each Graph request starts."""

    def __init__(self, graph: GraphClient, on_call: Callable[[str], Awaitable[None]]) -> None:
        self._graph = graph
        self._on_call = on_call

    def delta_round(self, *args: Any, **kwargs: Any) -> Any:
        return _WatchedRound(self._graph.delta_round(*args, **kwargs), self._on_call)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._graph, name)
        if name not in WATCHED:
            return attribute

        async def call(*args: Any, **kwargs: Any) -> Any:
            await self._on_call(name)
            return await attribute(*args, **kwargs)

        return call


class _WatchedRound:
    def __init__(self, round_: Any, on_call: Callable[[str], Awaitable[None]]) -> None:
        self._round = round_
        self._on_call = on_call

    @property
    def delta_link(self) -> str:
        return str(self._round.delta_link)

    async def __aiter__(self) -> Any:
        await self._on_call("delta page")
        async for page in self._round:
            yield page
            await self._on_call("delta page")


def _watch(world: World, on_call: Callable[[str], Awaitable[None]]) -> None:
    world.sync.pull._graph = WatchedGraph(world.graph, on_call)  # type: ignore[assignment]


async def _busy_mailbox(world: World) -> tuple[int, int]:
    """ADELE's mailbox with work of every kind for the next pull: a new series (its master is
    fetched), a deleted event (its removal is confirmed with a GET) and an event changed on both
    sides (its CRM change is written to Graph). Returns the CRM ids of the event changed on both
    sides and of an event changed in Outlook only."""
    both = world.crm_create(ADELE, "Quarterly review", soon(3))
    outlook_only = world.crm_create(ADELE, "Pension check", soon(4))
    doomed = world.crm_create(ADELE, "Old meeting", soon(5))
    await world.sync.run_once()
    start = soon(7, 15)
    await world.outlook_create(ADELE, "Weekly planning", start, recurrence=weekly(start, 3))
    for event_id, subject in ((both, "Quarterly review (moved)"), (outlook_only, "Pension (2)")):
        link = world.link_of(event_id)
        assert link is not None
        await world.outlook_update(ADELE, link.graph_id, subject=subject)
    world.crm_update(both, location="Room 4")
    doomed_link = world.link_of(doomed)
    assert doomed_link is not None
    await world.outlook_delete(ADELE, doomed_link.graph_id)
    return both, outlook_only


async def test_no_database_connection_is_held_while_the_pull_waits_for_microsoft365(
    world: World,
) -> None:
    await _busy_mailbox(world)
    seen: list[tuple[str, int]] = []

    async def check(name: str) -> None:
        seen.append((name, world.engine_db.pool.checkedout()))

    _watch(world, check)

    report = await world.sync.pull_mailbox(ADELE)

    assert report.cursor_advanced
    called = {name for name, _ in seen}
    assert {"delta page", "get_event", "get_series_masters", "update_event"} <= called
    assert [(name, held) for name, held in seen if held] == []


async def test_a_crm_save_during_a_graph_call_goes_through_at_once_and_is_kept(
    world: World, database_url: str
) -> None:
    both, outlook_only = await _busy_mailbox(world)
    # Another process of the firm (the API), which gives up at once instead of waiting for a lock.
    api_engine = create_database_engine(database_url)
    api_sessions = create_session_factory(api_engine)
    saved: list[str] = []

    async def save_in_the_crm(name: str) -> None:
        if name != "update_event" or saved:
            return
        with api_sessions() as session:
            if api_engine.dialect.name == "sqlite":
                session.execute(text("PRAGMA busy_timeout = 0"))
            else:
                session.execute(text("SET lock_timeout = '100ms'"))
            session.commit()
        world_sessions, world.sessions = world.sessions, api_sessions
        try:
            world.crm_update(outlook_only, location="Room 9")  # planned against the old version
        finally:
            world.sessions = world_sessions
        saved.append(name)

    _watch(world, save_in_the_crm)
    try:
        first = await world.sync.pull_mailbox(ADELE)
    finally:
        api_engine.dispose()

    assert saved == ["update_event"]
    assert not first.cursor_advanced  # the event saved meanwhile is merged on the next run
    assert [line.crm_event_id for line in world.log("changed_in_crm_meanwhile")] == [outlook_only]
    _watch(world, _nothing)
    await world.sync.run_once()
    await world.sync.run_once()

    event = world.crm_event(outlook_only)
    assert event is not None
    assert (event.subject, event.location) == ("Pension (2)", "Room 9")
    link = world.link_of(outlook_only)
    assert link is not None
    outlook = await world.outlook_event(ADELE, link.graph_id)
    assert outlook.subject == "Pension (2)"
    assert outlook.location is not None
    assert outlook.location.display_name == "Room 9"
    both_event = world.crm_event(both)
    assert both_event is not None
    assert (both_event.subject, both_event.location) == ("Quarterly review (moved)", "Room 4")


async def _nothing(_name: str) -> None:
    return None
