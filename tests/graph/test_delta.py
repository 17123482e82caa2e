"""Paging and calendarView delta rounds against a scripted Graph."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calsync.graph.client import GraphClient
from calsync.graph.delta import DeltaRoundIncomplete
from calsync.graph.errors import InvalidArgument, InvalidResponse, ResyncRequired
from calsync.graph.transport import GraphTransport

from .conftest import GRAPH, MAILBOX, FixedTokens, Harness, ScriptedGraph, event_json, graph_error
from .conftest import settings as graph_settings

Build = Callable[..., Harness]
START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 12, 31, tzinfo=UTC)
NEXT_1 = f"{GRAPH}/users/{MAILBOX}/calendarView/delta?$skiptoken=Ab%2Bc%3D%3D&odd=1"
NEXT_2 = f"{GRAPH}/users/{MAILBOX}/calendarView/delta?$skiptoken=Zz9"
FINAL = f"{GRAPH}/users/{MAILBOX}/calendarView/delta?$deltatoken=R0usmc"


def _pages(pages: dict[str, dict[str, object]]) -> Callable[[httpx.Request], httpx.Response]:
    """Answer by URL; the first request (with the window) is keyed by its path."""

    def answer(request: httpx.Request) -> httpx.Response:
        key = str(request.url) if str(request.url) in pages else request.url.path
        return httpx.Response(200, json=pages[key])

    return answer


FIRST_PATH = f"/v1.0/users/{MAILBOX}/calendarView/delta"


async def test_a_round_follows_next_links_exactly_and_returns_the_delta_link(
    make_client: Build,
) -> None:
    harness = make_client(
        _pages(
            {
                FIRST_PATH: {"@odata.nextLink": NEXT_1, "value": [event_json("e1")]},
                NEXT_1: {"@odata.nextLink": NEXT_2, "value": [event_json("e2")]},
                NEXT_2: {"@odata.deltaLink": FINAL, "value": [event_json("e3")]},
            }
        ),
        page_size=50,
    )
    delta = harness.client.delta_round(MAILBOX, start=START, end=END)
    seen = [event.id async for page in delta for event in page.changed]
    assert seen == ["e1", "e2", "e3"]
    assert delta.delta_link == FINAL
    first, second, third = harness.graph.requests
    assert first.url.params["startDateTime"] == "2026-01-01T00:00:00+00:00"
    assert str(second.url) == NEXT_1
    assert str(third.url) == NEXT_2
    assert all("odata.maxpagesize=50" in r.headers["prefer"] for r in harness.graph.requests)


async def test_empty_pages_with_a_next_link_do_not_end_the_round(make_client: Build) -> None:
    harness = make_client(
        _pages(
            {
                FIRST_PATH: {"@odata.nextLink": NEXT_1, "value": []},
                NEXT_1: {"@odata.nextLink": NEXT_2, "value": []},
                NEXT_2: {"@odata.deltaLink": FINAL, "value": [event_json("late")]},
            }
        )
    )
    delta = harness.client.delta_round(MAILBOX, start=START, end=END)
    sizes = [len(page.value) async for page in delta]
    assert sizes == [0, 0, 1]
    assert delta.delta_link == FINAL


async def test_duplicates_in_a_round_arrive_in_order_so_the_later_copy_wins(
    make_client: Build,
) -> None:
    harness = make_client(
        _pages(
            {
                FIRST_PATH: {"@odata.nextLink": NEXT_1, "value": [event_json("e1", "Old subject")]},
                NEXT_1: {
                    "@odata.deltaLink": FINAL,
                    "value": [
                        event_json("e1", "New subject"),
                        {"id": "e9", "@removed": {"reason": "deleted"}},
                    ],
                },
            }
        )
    )
    merged: dict[str, str | None] = {}
    removed: list[str] = []
    async for page in harness.client.delta_round(MAILBOX, start=START, end=END):
        merged.update({event.id: event.subject for event in page.changed})
        removed.extend(page.removed_ids)
    assert merged == {"e1": "New subject"}
    assert removed == ["e9"]


async def test_a_saved_delta_link_is_followed_as_is(make_client: Build) -> None:
    harness = make_client(_pages({FINAL: {"@odata.deltaLink": FINAL + "2", "value": []}}))
    delta = harness.client.delta_round(MAILBOX, delta_link=FINAL)
    pages = [page async for page in delta]
    assert [page.value for page in pages] == [[]]
    assert delta.delta_link == FINAL + "2"
    assert str(harness.graph.requests[0].url) == FINAL


async def test_410_mid_round_is_a_distinct_resync_signal(make_client: Build) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if str(request.url) == NEXT_1:
            return graph_error(410, "SyncStateNotFound", "The sync state generation is not found")
        return httpx.Response(200, json={"@odata.nextLink": NEXT_1, "value": [event_json("e1")]})

    harness = make_client(answer)
    delta = harness.client.delta_round(MAILBOX, start=START, end=END)
    pages: list[object] = []

    async def read_round() -> None:
        async for page in delta:
            pages.append(page)

    with pytest.raises(ResyncRequired) as caught:
        await read_round()
    assert len(pages) == 1
    assert caught.value.code == "graph.resync_required"
    assert not delta.finished
    with pytest.raises(DeltaRoundIncomplete):
        _ = delta.delta_link


async def test_token_expiry_mid_round_refreshes_and_regets_the_same_link(
    make_client: Build,
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if str(request.url) == NEXT_1 and request.headers["authorization"] == "Bearer token-1":
            return graph_error(401, "InvalidAuthenticationToken")
        if str(request.url) == NEXT_1:
            return httpx.Response(
                200, json={"@odata.deltaLink": FINAL, "value": [event_json("e2")]}
            )
        return httpx.Response(200, json={"@odata.nextLink": NEXT_1, "value": [event_json("e1")]})

    harness = make_client(answer)
    delta = harness.client.delta_round(MAILBOX, start=START, end=END)
    ids = [event.id async for page in delta for event in page.value]
    assert ids == ["e1", "e2"]
    assert delta.delta_link == FINAL
    assert [str(r.url) for r in harness.graph.requests[1:]] == [NEXT_1, NEXT_1]


async def test_a_page_without_any_link_is_reported_as_an_invalid_response(
    make_client: Build,
) -> None:
    harness = make_client(_pages({FIRST_PATH: {"value": [event_json("e1")]}}))
    with pytest.raises(InvalidResponse):
        async for _ in harness.client.delta_round(MAILBOX, start=START, end=END):
            pass


async def test_an_unreadable_page_names_the_bad_field(make_client: Build) -> None:
    harness = make_client(
        _pages({FIRST_PATH: {"@odata.deltaLink": FINAL, "value": [{"subject": "no id"}]}})
    )
    with pytest.raises(InvalidResponse, match=r"value\.0\.id"):
        async for _ in harness.client.delta_round(MAILBOX, start=START, end=END):
            pass


@pytest.mark.parametrize(
    ("part", "named"),
    [
        (
            {"attendees": [{"emailAddress": {"address": 5}}]},
            r"value\.0\.attendees\.0\.emailAddress",
        ),
        ({"start": {"timeZone": "UTC"}}, r"value\.0\.start\.dateTime: Field required"),
        ({"organizer": "Dana Swope"}, r"value\.0\.organizer"),
        (
            {"attendees": [{"status": {"time": "yesterday"}}]},
            r"value\.0\.attendees\.0\.status\.time",
        ),
        ({"@removed": {"reason": 3}}, r"value\.0\.@removed\.reason"),
    ],
    ids=["attendee-address", "start-without-time", "organizer", "response-time", "removed"],
)
async def test_a_bad_part_of_an_event_names_its_path_on_the_wire(
    make_client: Build, part: dict[str, Any], named: str
) -> None:
    event = {**event_json("e1"), **part}
    harness = make_client(_pages({FIRST_PATH: {"@odata.deltaLink": FINAL, "value": [event]}}))
    with pytest.raises(InvalidResponse, match=named):
        async for _ in harness.client.delta_round(MAILBOX, start=START, end=END):
            pass


def test_a_round_needs_a_window_or_a_link(make_client: Build) -> None:
    client = make_client(_pages({})).client
    with pytest.raises(InvalidArgument, match="start"):
        client.delta_round(MAILBOX)
    with pytest.raises(InvalidArgument, match="delta_link"):
        client.delta_round(MAILBOX, start=START, end=END, delta_link=FINAL)
    with pytest.raises(InvalidArgument, match="start"):
        client.delta_round(MAILBOX, start=datetime(2026, 1, 1), end=END)


async def test_calendar_view_pages_through_every_event(make_client: Build) -> None:
    link = f"{GRAPH}/users/{MAILBOX}/calendarView?$skip=2"

    def answer(request: httpx.Request) -> httpx.Response:
        if str(request.url) == link:
            return httpx.Response(200, json={"value": [event_json("c3")]})
        return httpx.Response(
            200, json={"@odata.nextLink": link, "value": [event_json("c1"), event_json("c2")]}
        )

    harness = make_client(answer)
    ids = [event.id async for event in harness.client.calendar_view(MAILBOX, START, END)]
    assert ids == ["c1", "c2", "c3"]
    assert harness.graph.requests[0].url.params["endDateTime"] == "2026-12-31T00:00:00+00:00"


@settings(max_examples=60, deadline=None)
@given(
    pages=st.lists(
        st.lists(st.sampled_from([f"e{n}" for n in range(8)] + ["gone1", "gone2"]), max_size=5),
        min_size=1,
        max_size=6,
    )
)
async def test_any_split_into_pages_gives_the_same_merged_round(pages: list[list[str]]) -> None:
    """However Graph splits a round (empty pages, repeats), merging by id in order agrees."""
    links = [
        f"{GRAPH}/users/{MAILBOX}/calendarView/delta?$skiptoken={n}" for n in range(len(pages))
    ]
    version = iter(range(1000))

    def item(event_id: str) -> dict[str, object]:
        if event_id.startswith("gone"):
            return {"id": event_id, "@removed": {"reason": "deleted"}}
        return event_json(event_id, f"{event_id} v{next(version)}")

    bodies = []
    for n, ids in enumerate(pages):
        body: dict[str, object] = {"value": [item(i) for i in ids]}
        if n + 1 < len(pages):
            body["@odata.nextLink"] = links[n + 1]
        else:
            body["@odata.deltaLink"] = FINAL
        bodies.append(body)
    by_url = {links[n]: body for n, body in enumerate(bodies)}

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=by_url.get(str(request.url), bodies[0]))

    graph = ScriptedGraph(answer)
    transport = GraphTransport(
        graph_settings(),
        FixedTokens(),
        http=httpx.AsyncClient(transport=httpx.MockTransport(graph)),
    )
    client = GraphClient(transport.settings, transport=transport)
    merged: dict[str, str | None] = {}
    async for page in client.delta_round(MAILBOX, start=START, end=END):
        for event in page.value:
            merged.pop(event.id, None)
            merged[event.id] = None if event.is_removed else event.subject
    expected: dict[str, str | None] = {}
    for body in bodies:
        for raw in body["value"]:  # type: ignore[attr-defined]
            expected.pop(raw["id"], None)
            expected[raw["id"]] = raw.get("subject")
    assert merged == expected
    assert len(graph.requests) == len(pages)
