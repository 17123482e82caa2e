"""SPEC §2 invites an Individual or Contact at the `email` of their record: one without an address
cannot be invited, and the push says so in the sync log instead of passing over it in silence."""

from __future__ import annotations

from calsync.crm.services.event_input import AttendeeInput
from calsync.sync.storage.models import LogKind
from tests.fixtures.emulator import ADELE
from tests.sync.runners.world import World, soon


async def test_an_attendee_without_an_email_is_not_invited_and_the_sync_log_says_so(
    world: World,
) -> None:
    reachable = world.individual("Client", "chris@fabrikam.example")
    unreachable = world.individual("Nomail", None)
    event_id = world.crm_create(
        ADELE,
        "Estate planning",
        soon(4),
        attendees=(
            AttendeeInput(individual_id=reachable),
            AttendeeInput(individual_id=unreachable),
        ),
    )

    report = await world.sync.push_pending()

    assert report.pushed == 1
    link = world.link_of(event_id)
    assert link is not None
    outlook = await world.outlook_event(ADELE, link.graph_id)
    invited = [str(a.email_address.address) for a in outlook.attendees or [] if a.email_address]
    assert invited == ["chris@fabrikam.example"]
    [warning] = world.log("attendee_not_invited")
    assert warning.kind is LogKind.NOTICE
    assert warning.severity == "warning"
    assert warning.crm_event_id == event_id
    assert "Nomail (Individual)" in warning.message
    assert "Client" not in warning.message


async def test_no_warning_when_every_attendee_has_an_address(world: World) -> None:
    reachable = world.individual("Client", "chris@fabrikam.example")
    world.crm_create(
        ADELE, "Estate planning", soon(4), attendees=(AttendeeInput(individual_id=reachable),)
    )
    await world.sync.push_pending()
    assert world.log("attendee_not_invited") == []
