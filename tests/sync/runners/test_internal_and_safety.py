"""SPEC §6 (internal events) and §9 (safety) end to end: nobody sees a meeting twice, the window's
`@removed` never deletes, a 410 resyncs without duplicates, the mass-deletion guard stops, and
lost state re-links."""

from __future__ import annotations

from sqlalchemy import delete, select

from calsync.crm.models import Event, Origin, SyncStatus
from calsync.crm.services.event_input import AttendeeInput
from calsync.emulator.control_client import EmulatorControl
from calsync.sync.storage.models import CursorStatus, DeltaCursor, SyncLinkRecord
from tests.fixtures.emulator import ADELE, LEE, MEGAN
from tests.sync.runners.world import World, soon


async def test_a_crm_meeting_with_a_colleague_is_not_imported_again_from_her_invitation(
    world: World,
) -> None:
    event_id = world.crm_create(
        ADELE, "Team review", soon(4), attendees=(AttendeeInput(user_id=world.users[MEGAN]),)
    )

    await world.sync.run_once()
    await world.sync.run_once()

    assert len(await world.outlook_events(MEGAN)) == 1  # the invitation copy
    assert world.crm_events(MEGAN) == []  # Megan sees the CRM's read-only copy instead
    with world.sessions() as session:
        copies = session.scalars(select(Event).where(Event.copy_of_event_id == event_id)).all()
    assert [copy.owner_id for copy in copies] == [world.users[MEGAN]]
    assert world.log("invitation_copy_not_imported")


async def test_an_outlook_meeting_between_colleagues_gives_each_their_own_version_once(
    world: World,
) -> None:
    created = await world.outlook_create(MEGAN, "Strategy", soon(5), attendees=(ADELE, LEE))

    await world.sync.run_once()
    await world.sync.run_once()

    for mailbox in (MEGAN, ADELE, LEE):
        [event] = world.crm_events(mailbox)
        assert event.subject == "Strategy"
        assert event.origin is Origin.MICROSOFT365
    [adele_event] = world.crm_events(ADELE)
    world.crm_update(adele_event.id, show_as="free")
    await world.outlook_update(MEGAN, created.id, subject="Strategy (new agenda)")
    await world.sync.run_once()
    await world.sync.run_once()

    assert world.crm_events(ADELE)[0].subject == "Strategy (new agenda)"
    assert world.crm_events(LEE)[0].subject == "Strategy (new agenda)"
    adele_copy = next(e for e in await world.outlook_events(ADELE) if e.subject)
    assert adele_copy.show_as == "free"
    assert len(await world.outlook_events(ADELE)) == 1


async def test_an_event_moved_out_of_the_window_is_not_deleted(world: World) -> None:
    created = await world.outlook_create(ADELE, "Far away", soon(5))
    await world.sync.run_once()
    [event] = world.crm_events(ADELE)

    await world.outlook_update(
        ADELE, created.id, start=soon(500), end=soon(500, 11), time_zone="UTC"
    )
    far = await world.outlook_create(ADELE, "Never tracked", soon(600))
    await world.outlook_delete(ADELE, far.id)
    await world.sync.run_once()

    after = world.crm_event(event.id)
    assert after is not None
    assert after.start_at == soon(500)
    assert len(world.crm_events(ADELE)) == 1


async def test_an_expired_delta_token_resyncs_without_duplicates_or_invitations(
    world: World, control: EmulatorControl
) -> None:
    """Each meeting request went out once (one Sent Items message each), never again."""
    world.crm_create(
        ADELE, "From the CRM", soon(3), attendees=(AttendeeInput(email="g@x.example"),)
    )
    await world.outlook_create(ADELE, "From Outlook", soon(4), attendees=("h@x.example",))
    await world.sync.run_once()
    sent_before = await world.sent_items(ADELE)

    control.expire_delta_tokens(ADELE)
    report = await world.sync.pull_mailbox(ADELE)

    assert report.full_resync
    assert report.crm_writes == 0
    assert report.graph_writes == 0
    assert sorted(e.subject for e in world.crm_events(ADELE)) == ["From Outlook", "From the CRM"]
    assert len(await world.outlook_events(ADELE)) == 2
    assert sorted(sent_before) == ["From Outlook", "From the CRM"]
    assert await world.sent_items(ADELE) == sent_before


async def test_the_mass_deletion_guard_stops_until_an_administrator_confirms(
    world: World,
) -> None:
    created = [await world.outlook_create(ADELE, f"Client {n}", soon(n + 1)) for n in range(8)]
    await world.sync.run_once()
    assert len(world.crm_events(ADELE)) == 8

    for event in created[:6]:
        await world.outlook_delete(ADELE, event.id)
    report = await world.sync.pull_mailbox(ADELE)

    assert report.held
    assert len(world.crm_events(ADELE)) == 8
    with world.sessions() as session:
        cursor = session.scalar(select(DeltaCursor).where(DeltaCursor.mailbox == ADELE))
        assert cursor is not None
        assert cursor.status is CursorStatus.NEEDS_ATTENTION
        assert "6 of the 8" in (cursor.status_message or "")

    world.sync.confirm_held_deletions(ADELE)
    confirmed = await world.sync.pull_mailbox(ADELE)

    assert not confirmed.held
    assert sorted(e.subject for e in world.crm_events(ADELE)) == ["Client 6", "Client 7"]


async def test_a_few_deletions_are_never_held(world: World) -> None:
    created = [await world.outlook_create(ADELE, f"Client {n}", soon(n + 1)) for n in range(3)]
    await world.sync.run_once()

    for event in created[:2]:
        await world.outlook_delete(ADELE, event.id)
    report = await world.sync.pull_mailbox(ADELE)

    assert not report.held
    assert [e.subject for e in world.crm_events(ADELE)] == ["Client 2"]


async def test_lost_sync_state_re_links_instead_of_duplicating(world: World) -> None:
    first = world.crm_create(
        ADELE, "Pushed one", soon(3), attendees=(AttendeeInput(email="a@x.example"),)
    )
    second = world.crm_create(ADELE, "Pushed two", soon(4))
    await world.outlook_create(ADELE, "Made in Outlook", soon(5), attendees=("b@x.example",))
    await world.sync.run_once()
    [imported] = [e.id for e in world.crm_events(ADELE) if e.id not in (first, second)]
    with world.sessions() as session:
        session.execute(delete(SyncLinkRecord))
        session.execute(delete(DeltaCursor))
        session.commit()

    await world.sync.run_once()
    await world.sync.run_once()

    assert [e.id for e in world.crm_events(ADELE)] == [first, second, imported]
    assert len(await world.outlook_events(ADELE)) == 3
    assert all(world.link_of(event_id) is not None for event_id in (first, second, imported))
    assert len(world.log("relinked")) == 3
    assert len(await world.sent_items(ADELE)) == 2  # no invitation went out again


async def test_discarded_outlook_deletions_keep_the_crm_events_and_say_why(world: World) -> None:
    created = [await world.outlook_create(ADELE, f"Client {n}", soon(n + 1)) for n in range(8)]
    await world.sync.run_once()
    for event in created[:6]:
        await world.outlook_delete(ADELE, event.id)
    assert (await world.sync.pull_mailbox(ADELE)).held

    world.sync.discard_held_deletions(ADELE)
    report = await world.sync.pull_mailbox(ADELE)

    assert not report.held
    assert report.cursor_advanced
    events = world.crm_events(ADELE)
    assert len(events) == 8
    kept = [e for e in events if world.link_of(e.id) is None]
    assert sorted(e.subject for e in kept) == [f"Client {n}" for n in range(6)]
    assert all(e.sync_status is SyncStatus.ERROR for e in kept)
    assert all("administrator chose to keep it" in (e.sync_message or "") for e in kept)
    again = await world.sync.pull_mailbox(ADELE)
    assert (again.crm_writes, again.held) == (0, False)


async def test_crm_mass_deletions_are_held_and_can_be_discarded(world: World) -> None:
    event_ids = [world.crm_create(ADELE, f"Prospect {n}", soon(n + 1)) for n in range(8)]
    await world.sync.push_pending()
    for event_id in event_ids[:6]:
        world.crm_delete(event_id)

    held = await world.sync.push_pending()

    assert held.held == 6
    assert len(await world.outlook_events(ADELE)) == 8
    world.sync.discard_held_deletions(ADELE)
    await world.sync.run_once()
    assert len(await world.outlook_events(ADELE)) == 8
    assert all(world.link_of(event_id) is None for event_id in event_ids[:6])
    assert [line.code for line in world.log("deletion_discarded")] == ["deletion_discarded"] * 6
