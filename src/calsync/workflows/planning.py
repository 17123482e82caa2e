"""Turn one step of a workflow, a record and the run time into the event to create (pure).

The service reads the record and the users it needs into the small views below and calls
`plan_event`; everything that can go wrong with the record's data (no advisor, no email, an empty
placeholder, a start already past) is found here, before anything is written, so a run either
creates all of its events or none of them. Errors are `RunFailedError`s naming the step's field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from calsync.crm.models import RecordType, ShowAs
from calsync.workflows.definitions import (
    CreateEventStep,
    FixedEmail,
    FixedUser,
    Owner,
    RecordItself,
    RecordUser,
)
from calsync.workflows.errors import RunFailedError
from calsync.workflows.record_schema import USER_ATTRIBUTES
from calsync.workflows.schedule import event_start
from calsync.workflows.templates import render


@dataclass(frozen=True)
class UserView:
    """What a run needs to know of a staff User."""

    id: int
    name: str
    email: str
    time_zone: str


@dataclass(frozen=True)
class RecordView:
    """What a run needs to know of the Individual or Contact it runs on."""

    record_type: RecordType
    id: int
    name: str
    email: str | None
    # Placeholder values of the record's own fields: `record.first_name`, `record.custom.stage` …
    values: Mapping[str, str | None]
    # User-valued fields by workflow name (`advisor`) → user id, None when the field is empty.
    user_ids: Mapping[str, int | None]


@dataclass(frozen=True)
class AttendeePlan:
    """One invitation: to a record (invited at its email) or to a bare address."""

    user_id: int | None = None
    individual_id: int | None = None
    contact_id: int | None = None
    email: str | None = None


@dataclass(frozen=True)
class EventPlan:
    """Everything needed to create one CRM event, already checked."""

    owner_id: int
    subject: str
    description: str
    location: str
    time_zone: str
    start: datetime
    end: datetime
    show_as: ShowAs
    teams_meeting: bool
    attendees: tuple[AttendeePlan, ...]


def plan_event(
    step: CreateEventStep,
    path: str,
    *,
    workflow_name: str,
    record: RecordView,
    users: Mapping[int, UserView],
    run_at: datetime,
) -> EventPlan:
    """The event `step` creates for `record` when run at `run_at`, or a `RunFailedError`."""
    owner = _owner(step.owner, f"{path}.owner", record, users)
    zone = ZoneInfo(owner.time_zone)
    start = event_start(step.start, run_at, zone)
    if start <= run_at:
        raise RunFailedError(
            f"the event would start at {start:%Y-%m-%d %H:%M} ({owner.time_zone}), which is not "
            "after the run; use a later time or more days",
            field=f"{path}.start",
            code="start_in_past",
        )
    values = _placeholder_values(workflow_name, record, users, owner, run_at, start)
    return EventPlan(
        owner_id=owner.id,
        subject=render(step.subject, values, field=f"{path}.subject"),
        description=render(step.description, values, field=f"{path}.description"),
        location=render(step.location, values, field=f"{path}.location"),
        time_zone=owner.time_zone,
        start=start,
        end=start + step.duration,
        show_as=step.show_as,
        teams_meeting=step.teams_meeting,
        attendees=_attendees(step, path, record, users, owner.id),
    )


def _owner(owner: Owner, path: str, record: RecordView, users: Mapping[int, UserView]) -> UserView:
    if isinstance(owner, FixedUser):
        user = users.get(owner.user_id)
        if user is None:
            raise RunFailedError(
                f"user {owner.user_id}, the owner of this step, no longer exists; "
                "edit the workflow",
                field=f"{path}.user_id",
                code="owner_not_found",
            )
        return user
    user = _record_user(record, users, owner)
    if user is None:
        raise RunFailedError(
            f"{record.name} has no {owner.field} to own the event",
            field=f"{path}.field",
            code="missing_owner",
        )
    return user


def _record_user(
    record: RecordView, users: Mapping[int, UserView], ref: RecordUser
) -> UserView | None:
    user_id = record.user_ids.get(ref.field)
    return None if user_id is None else users.get(user_id)


def _attendees(
    step: CreateEventStep,
    path: str,
    record: RecordView,
    users: Mapping[int, UserView],
    owner_id: int,
) -> tuple[AttendeePlan, ...]:
    """The step's attendees in order, without the owner (the organizer) and without repeats."""
    plans: list[AttendeePlan] = []
    for index, attendee in enumerate(step.attendees):
        field = f"{path}.attendees[{index}]"
        if isinstance(attendee, RecordItself):
            if not record.email:
                raise RunFailedError(
                    f"{record.name} has no email address to send the invitation to",
                    field=field,
                    code="missing_email",
                )
            if record.record_type is RecordType.INDIVIDUAL:
                plan = AttendeePlan(individual_id=record.id)
            else:
                plan = AttendeePlan(contact_id=record.id)
        elif isinstance(attendee, FixedEmail):
            plan = AttendeePlan(email=attendee.email)
        elif isinstance(attendee, FixedUser):
            if attendee.user_id not in users:
                raise RunFailedError(
                    f"user {attendee.user_id}, an attendee of this step, no longer exists; "
                    "edit the workflow",
                    field=f"{field}.user_id",
                    code="attendee_not_found",
                )
            plan = AttendeePlan(user_id=attendee.user_id)
        else:
            user = _record_user(record, users, attendee)
            if user is None:
                raise RunFailedError(
                    f"{record.name} has no {attendee.field} to invite",
                    field=f"{field}.field",
                    code="missing_attendee",
                )
            plan = AttendeePlan(user_id=user.id)
        if plan.user_id != owner_id and plan not in plans:
            plans.append(plan)
    return tuple(plans)


def _placeholder_values(
    workflow_name: str,
    record: RecordView,
    users: Mapping[int, UserView],
    owner: UserView,
    run_at: datetime,
    start: datetime,
) -> dict[str, str | None]:
    values: dict[str, str | None] = dict(record.values)
    for field, user_id in record.user_ids.items():
        user = None if user_id is None else users.get(user_id)
        for attribute in USER_ATTRIBUTES:
            values[f"record.{field}.{attribute}"] = _user_attribute(user, attribute)
    for attribute in USER_ATTRIBUTES:
        values[f"owner.{attribute}"] = _user_attribute(owner, attribute)
    local_run = run_at.astimezone(start.tzinfo)
    values["run.date"] = local_run.date().isoformat()
    values["run.workflow"] = workflow_name
    values["event.date"] = start.date().isoformat()
    values["event.time"] = f"{start:%H:%M}"
    return values


def _user_attribute(user: UserView | None, attribute: str) -> str | None:
    if user is None:
        return None
    return {"name": user.name, "email": user.email}[attribute]
