"""SPEC §4 end to end, beyond test_teams_and_series.py: the box unticked while the event is being
created, a refused untick that leaves both sides as they were, Teams ticked on an event that was
already sent, and a Teams meeting made in Outlook."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from calsync.crm.errors import TeamsInvitationSentError
from calsync.sync.storage.models import OutboxEntry
from tests.fixtures.emulator import ADELE
from tests.sync.runners.world import World, soon


async def test_the_box_unticked_before_the_invitation_went_out_gives_a_plain_meeting(
    world: World,
) -> None:
    event_id = world.crm_create(ADELE, "Coffee", soon(3), is_teams_meeting=True)
    world.crm_update(event_id, is_teams_meeting=False)  # still being created: nothing sent yet

    await world.sync.push_pending()

    link = world.link_of(event_id)
    assert link is not None
    outlook = await world.outlook_event(ADELE, link.graph_id)
    assert not outlook.is_online_meeting
    assert outlook.join_url is None
    event = world.crm_event(event_id)
    assert event is not None
    assert (event.is_teams_meeting, event.teams_join_url) == (False, None)


async def test_a_refused_untick_changes_nothing_on_either_side(world: World) -> None:
    event_id = world.crm_create(ADELE, "Video review", soon(3), is_teams_meeting=True)
    await world.sync.push_pending()
    before = world.crm_event(event_id)
    assert before is not None
    link = world.link_of(event_id)
    assert link is not None
    etag = (await world.outlook_event(ADELE, link.graph_id)).etag

    with pytest.raises(TeamsInvitationSentError) as refused:
        world.crm_update(event_id, is_teams_meeting=False, subject="Review without video")

    assert refused.value.code == "teams_invitation_sent"
    assert "invitation" in str(refused.value).lower()
    after = world.crm_event(event_id)
    assert after is not None
    assert (after.version, after.subject, after.is_teams_meeting, after.teams_join_url) == (
        before.version,
        "Video review",
        True,
        before.teams_join_url,
    )
    with world.sessions() as session:
        assert session.scalars(select(OutboxEntry)).all() == []
    await world.sync.run_once()
    outlook = await world.outlook_event(ADELE, link.graph_id)
    assert outlook.etag == etag
    assert outlook.is_online_meeting
    assert outlook.join_url == before.teams_join_url


async def test_teams_ticked_on_a_meeting_already_sent_adds_the_join_url_on_both_sides(
    world: World,
) -> None:
    event_id = world.crm_create(ADELE, "Portfolio review", soon(4))
    await world.sync.push_pending()

    world.crm_update(event_id, is_teams_meeting=True)
    await world.sync.push_pending()

    event = world.crm_event(event_id)
    assert event is not None
    assert event.is_teams_meeting
    assert (event.teams_join_url or "").startswith("https://")
    link = world.link_of(event_id)
    assert link is not None
    outlook = await world.outlook_event(ADELE, link.graph_id)
    assert outlook.is_online_meeting
    assert outlook.join_url == event.teams_join_url
    again = await world.sync.run_once()
    assert sum(pull.crm_writes + pull.graph_writes for pull in again.pulls) == 0


async def test_a_teams_meeting_made_in_outlook_arrives_ticked_with_its_join_url(
    world: World,
) -> None:
    created = await world.outlook_create(
        ADELE,
        "Client video call",
        soon(5),
        is_online_meeting=True,
        online_meeting_provider="teamsForBusiness",
    )
    assert created.join_url is not None

    await world.sync.run_once()

    [event] = world.crm_events(ADELE)
    assert event.is_teams_meeting
    assert event.teams_join_url == created.join_url
    with pytest.raises(TeamsInvitationSentError):
        world.crm_update(event.id, is_teams_meeting=False)
