"""The Graph client against the TLS emulator: MSAL through the emulator's token endpoint, real HTTP.

Nothing here is an emulator shortcut: the client gets the same kind of settings a tenant would
(https authority, https Graph root, a CA bundle) and MSAL discovers the token endpoint from OpenID
metadata.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from calsync.emulator.control_client import EmulatorControl
from calsync.emulator.server import EmulatorServer
from calsync.graph.client import GraphClient
from calsync.graph.drafts import EventDraft
from calsync.graph.errors import (
    NotFound,
    PreconditionFailed,
    TlsVerificationFailed,
    TokenAcquisitionFailed,
)
from calsync.graph.writes import CreateEvent, DeleteEvent, UpdateEvent
from tests.fixtures.emulator import ADELE, KIOSK

from .emulator_support import WINDOW_END, WINDOW_START, meeting, settings_for


async def test_create_read_update_delete_round_trip(graph: GraphClient) -> None:
    created = await graph.create_event(
        ADELE, meeting("Annual review", 10), transaction_id="crm-1-r1"
    )
    assert created.etag
    assert created.transaction_id == "crm-1-r1"
    times = created.times()
    assert (times.start.hour, times.zone.iana_name) == (10, "America/New_York")

    fetched = await graph.get_event(ADELE, created.id)
    assert fetched.subject == "Annual review"

    updated = await graph.update_event(
        ADELE, created.id, EventDraft(subject="Annual review (moved)"), etag=created.etag or ""
    )
    assert updated.subject == "Annual review (moved)"
    assert updated.etag != created.etag
    with pytest.raises(PreconditionFailed):
        await graph.update_event(
            ADELE, created.id, EventDraft(subject="stale"), etag=created.etag or ""
        )

    await graph.delete_event(ADELE, created.id, etag=updated.etag or "")
    with pytest.raises(NotFound):
        await graph.get_event(ADELE, created.id)


async def test_all_day_events_come_back_as_dates(graph: GraphClient) -> None:
    draft = EventDraft(
        subject="Office closed",
        start=date(2026, 12, 24),
        end=date(2026, 12, 27),
        time_zone="America/Los_Angeles",
        is_all_day=True,
    )
    created = await graph.create_event(ADELE, draft, transaction_id="crm-2-r1")
    times = (await graph.get_event(ADELE, created.id)).times()
    assert times.is_all_day
    assert (times.start_date, times.end_date) == (date(2026, 12, 24), date(2026, 12, 27))


async def test_a_resent_create_with_the_same_transaction_id_makes_no_duplicate(
    graph: GraphClient,
) -> None:
    first = await graph.create_event(ADELE, meeting("Kick-off", 11), transaction_id="crm-3-r1")
    again = await graph.create_event(ADELE, meeting("Kick-off", 11), transaction_id="crm-3-r1")
    assert again.id == first.id
    events = [e async for e in graph.calendar_view(ADELE, WINDOW_START, WINDOW_END)]
    assert [e.subject for e in events] == ["Kick-off"]


async def test_delta_rounds_page_through_everything_then_report_only_changes(
    graph: GraphClient,
) -> None:
    created = [
        await graph.create_event(
            ADELE, meeting(f"Client call {n}", 2 + n % 20, 8 + n % 8), transaction_id=f"bulk-{n}"
        )
        for n in range(60)
    ]
    first = graph.delta_round(ADELE, start=WINDOW_START, end=WINDOW_END)
    seen: dict[str, str | None] = {}
    async for page in first:
        assert len(page.value) <= 25
        seen.update({event.id: event.subject for event in page.changed})
    assert set(seen) == {event.id for event in created}
    assert first.pages_read >= 3

    await graph.update_event(ADELE, created[0].id, EventDraft(subject="Renamed"), etag="*")
    await graph.delete_event(ADELE, created[1].id, etag="*")
    second = graph.delta_round(ADELE, delta_link=first.delta_link)
    changed: dict[str, str | None] = {}
    removed: list[str] = []
    async for page in second:
        changed.update({event.id: event.subject for event in page.changed})
        removed.extend(page.removed_ids)
    assert changed == {created[0].id: "Renamed"}
    assert removed == [created[1].id]
    assert second.delta_link != first.delta_link


async def test_recurring_series_expand_and_the_master_is_fetched_by_id(graph: GraphClient) -> None:
    from calsync.graph.models import PatternedRecurrence

    base = meeting("Weekly planning", 2, 9)  # Monday 2 March 2026
    recurrence = PatternedRecurrence.model_validate(
        {
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
            "range": {"type": "numbered", "startDate": "2026-03-02", "numberOfOccurrences": 4},
        }
    )
    draft = EventDraft(
        subject=base.subject,
        start=base.start,
        end=base.end,
        time_zone=base.time_zone,
        recurrence=recurrence,
    )
    master = await graph.create_event(ADELE, draft, transaction_id="series-1")
    occurrences = [e async for e in graph.calendar_view(ADELE, WINDOW_START, WINDOW_END)]
    assert len(occurrences) == 4
    assert {e.type for e in occurrences} == {"occurrence"}
    assert [e.times().start.date() for e in occurrences] == [
        date(2026, 3, 2) + timedelta(weeks=n) for n in range(4)
    ]
    fetched = await graph.get_series_master(ADELE, occurrences[0].series_master_id or "")
    assert fetched.id == master.id
    assert fetched.recurrence is not None
    instances = [e async for e in graph.instances(ADELE, master.id, WINDOW_START, WINDOW_END)]
    assert len(instances) == 4


async def test_cancel_sends_the_comment_and_removes_the_meeting(graph: GraphClient) -> None:
    created = await graph.create_event(
        ADELE, meeting("Quarterly review", 12), transaction_id="crm-5"
    )
    await graph.cancel_event(ADELE, created.id, comment="Client asked to postpone")
    with pytest.raises(NotFound):
        await graph.get_event(ADELE, created.id)


async def test_a_batch_of_writes_gives_one_outcome_per_write(graph: GraphClient) -> None:
    keep = await graph.create_event(ADELE, meeting("Keep", 13), transaction_id="b-keep")
    drop = await graph.create_event(ADELE, meeting("Drop", 14), transaction_id="b-drop")
    outcomes = await graph.write_batch(
        ADELE,
        [
            CreateEvent(meeting("New in batch", 15), "b-new"),
            UpdateEvent(keep.id, EventDraft(subject="Keep (renamed)"), keep.etag or "*"),
            DeleteEvent(drop.id, 'W/"not-the-etag"'),
        ],
    )
    assert [o.ok for o in outcomes] == [True, True, False]
    assert outcomes[0].event is not None
    assert outcomes[0].event.subject == "New in batch"
    assert isinstance(outcomes[2].error, PreconditionFailed)


async def test_a_wrong_secret_is_a_token_error_not_a_graph_error(
    emulator_server: EmulatorServer, control: EmulatorControl
) -> None:
    async with GraphClient(settings_for(emulator_server, client_secret="wrong")) as client:
        with pytest.raises(TokenAcquisitionFailed) as caught:
            await client.get_event(ADELE, "anything")
    assert caught.value.graph_code == "invalid_client"


async def test_a_server_certificate_outside_the_ca_bundle_fails_fast_and_says_so(
    emulator_server: EmulatorServer, control: EmulatorControl
) -> None:
    # Without the emulator's CA the public trust store applies, as for a tenant: the emulator's
    # certificate must be refused at once, not retried until the cap.
    async with GraphClient(settings_for(emulator_server, ca_bundle=None)) as client:
        with pytest.raises(TlsVerificationFailed) as caught:
            await client.get_event(ADELE, "anything")
    assert "ca_bundle" in str(caught.value)
    assert caught.value.code == "graph.tls_verification_failed"


async def test_a_round_survives_an_empty_first_page_and_duplicated_items(
    graph: GraphClient, emulator_server: EmulatorServer
) -> None:
    config = emulator_server.emulator.config
    config.delta_empty_first_page = True
    config.delta_duplicate_items = True
    for n in range(30):
        await graph.create_event(ADELE, meeting(f"Call {n}", 2 + n % 20), transaction_id=f"dup-{n}")
    delta = graph.delta_round(ADELE, start=WINDOW_START, end=WINDOW_END)
    sizes: list[int] = []
    merged: dict[str, str | None] = {}
    async for page in delta:
        sizes.append(len(page.value))
        merged.update({event.id: event.subject for event in page.changed})
    assert sizes[0] == 0  # Graph may open a round with an empty page that still has a nextLink
    assert sum(sizes) > 30  # some events came twice
    assert sorted(merged.values()) == sorted(f"Call {n}" for n in range(30))
    assert delta.finished


async def test_the_connection_check_reads_the_calendar_and_its_teams_capability(
    graph: GraphClient,
) -> None:
    calendar = await graph.get_calendar(ADELE)
    assert calendar.owner is not None
    assert calendar.owner.address == ADELE
    assert calendar.can_host_teams_meetings
    assert not (await graph.get_calendar(KIOSK)).can_host_teams_meetings
    with pytest.raises(NotFound):
        await graph.get_calendar("nobody@contoso.com")
