"""The initial import creates a round's new Outlook events together: each with its link and log
line, a refused one reported on its own (naming the field) while the rest come in, and nothing
imported twice when the round is replayed."""

from __future__ import annotations

from calsync.crm.models import Origin, SyncStatus
from tests.fixtures.emulator import ADELE
from tests.sync.runners.world import World, soon


async def test_a_refused_outlook_event_is_logged_naming_its_field_and_the_others_come_in(
    world: World,
) -> None:
    client = world.individual("Lindqvist", "ada@lindqvist.example")
    for day in range(1, 6):
        await world.outlook_create(
            ADELE, f"Review {day}", soon(day), attendees=("ada@lindqvist.example",)
        )
    # Outlook takes subjects longer than the CRM's 255 characters (our own client refuses them,
    # so this one is posted as Outlook would).
    start = soon(8)
    response = await world.outlook.transport.send(
        "POST",
        f"/users/{ADELE}/events",
        mailbox=ADELE,
        json={
            "subject": "R" * 300,
            "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
            "end": {"dateTime": start.strftime("%Y-%m-%dT11:%M:%S"), "timeZone": "UTC"},
        },
    )
    refused_id = response.json()["id"]

    first = await world.sync.pull_mailbox(ADELE)

    assert not first.cursor_advanced  # the refused event is tried again on the next run
    events = world.crm_events(ADELE)
    assert sorted(event.subject for event in events) == [f"Review {day}" for day in range(1, 6)]
    for event in events:
        assert event.origin is Origin.MICROSOFT365
        assert event.sync_status is SyncStatus.SYNCED
        assert [(a.individual_id, a.email) for a in event.attendees] == [
            (client, "ada@lindqvist.example")
        ]
        link = world.link_of(event.id)
        assert link is not None
        assert link.mailbox == ADELE
    [error] = [line for line in world.log() if line.graph_id == refused_id]
    assert error.code == "invalid_input"
    assert "subject" in error.message
    created = world.log("created_in_crm")
    assert sorted(line.crm_event_id for line in created) == sorted(e.id for e in events)

    second = await world.sync.pull_mailbox(ADELE)

    assert not second.cursor_advanced
    assert len(world.crm_events(ADELE)) == 5  # replaying the round imported nothing twice
    assert second.crm_writes == 0
