"""Create a planned event through the CRM's event service, as an ordinary CRM event.

Going through `calsync.crm.services.events.create_event` (rather than writing rows) means the
event gets every rule and side effect any other CRM event gets: its checks, the attendees' record
links and internal copies, and the sync status that makes the sync push it to Microsoft 365 with
its invitations.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from calsync.crm.services.event_input import AttendeeInput, EventInput
from calsync.crm.services.events import create_event
from calsync.workflows.planning import EventPlan


def create_planned_event(session: Session, plan: EventPlan) -> int:
    """Create the event `plan` describes; returns its id. CRM refusals raise `CrmError`."""
    event = create_event(
        session,
        EventInput(
            owner_id=plan.owner_id,
            subject=plan.subject,
            start=plan.start,
            end=plan.end,
            time_zone=plan.time_zone,
            description=plan.description,
            location=plan.location,
            show_as=plan.show_as,
            is_teams_meeting=plan.teams_meeting,
            attendees=tuple(
                AttendeeInput(
                    user_id=attendee.user_id,
                    individual_id=attendee.individual_id,
                    contact_id=attendee.contact_id,
                    email=attendee.email,
                )
                for attendee in plan.attendees
            ),
        ),
    )
    return event.id
