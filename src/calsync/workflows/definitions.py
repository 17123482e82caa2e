"""Workflow definitions: the JSON an administrator writes, and the checked form the runner uses.

`WorkflowDefinitionIn` (pydantic) is the shape at the edge — the API body, the CLI's file, and what
each stored version keeps verbatim. `compile_definition` checks it against the record type
(`RecordSchema`) and the firm's users and returns a `Workflow`, a tree of frozen dataclasses with
templates parsed and times resolved. Every refusal is an `InvalidDefinitionError` naming the field
as a path into the JSON (`steps[0].owner.field`), so an unknown placeholder, field or user, or a bad
offset, is caught when the definition is saved.

An example definition (an annual review 7 days after the stage becomes "Review"):

    {"name": "Annual review", "record_type": "individual",
     "trigger": {"kind": "on_field_change", "field": "custom.stage", "value": "Review"},
     "steps": [{"action": "create_event",
                "subject": "Annual review: {record.name}",
                "owner": {"kind": "record_user", "field": "advisor"},
                "attendees": [{"kind": "record"}],
                "start": {"days_after": 7, "at": "10:00", "skip_weekends": true},
                "duration_minutes": 60, "teams_meeting": true}]}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, ValidationError

from calsync.crm.errors import CrmError
from calsync.crm.models import RecordType, ShowAs
from calsync.crm.services.custom_field_values import canonical_value
from calsync.workflows.errors import InvalidDefinitionError
from calsync.workflows.record_schema import CUSTOM_PREFIX, RecordSchema
from calsync.workflows.schedule import MAX_DAYS_AFTER, StartRule
from calsync.workflows.templates import Template, check_placeholders, parse_template

MAX_STEPS = 20
MAX_ID = 2_147_483_647  # row ids are 32-bit on PostgreSQL; a larger number names no user
MAX_DURATION_MINUTES = 7 * 24 * 60
SUBJECT_MAX_LENGTH = 255
LOCATION_MAX_LENGTH = 255

# --- The edge: what an administrator writes -------------------------------------------------------


def _refuse_nul(value: str) -> str:
    # PostgreSQL cannot store the NUL character; refuse it here rather than fail at the database.
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    return value


Text = Annotated[str, AfterValidator(_refuse_nul)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ManualTriggerIn(_Body):
    """Run only when someone runs the workflow on a record (API, CLI or the admin page)."""

    kind: Literal["manual"]


class OnCreateTriggerIn(_Body):
    """Run when a record of the workflow's type is created."""

    kind: Literal["on_create"]


class OnFieldChangeTriggerIn(_Body):
    """Run when `field` (a standard field or `custom.<key>`) changes to `value`."""

    kind: Literal["on_field_change"]
    field: Text = Field(min_length=1, max_length=100)
    value: Text = Field(min_length=1, max_length=500)


TriggerIn = Annotated[
    ManualTriggerIn | OnCreateTriggerIn | OnFieldChangeTriggerIn, Field(discriminator="kind")
]


class UserRefIn(_Body):
    """A fixed staff User, by id."""

    kind: Literal["user"]
    user_id: int = Field(gt=0, le=MAX_ID)


class RecordUserRefIn(_Body):
    """The User a field of the record names, such as an Individual's `advisor`."""

    kind: Literal["record_user"]
    field: Text = Field(min_length=1, max_length=100)


class RecordAttendeeIn(_Body):
    """The person the workflow runs on, invited at the `email` of their record."""

    kind: Literal["record"]


class EmailAttendeeIn(_Body):
    """A fixed email address (matched to a record like any attendee)."""

    kind: Literal["email"]
    email: EmailStr


OwnerIn = Annotated[UserRefIn | RecordUserRefIn, Field(discriminator="kind")]
AttendeeIn = Annotated[
    RecordAttendeeIn | RecordUserRefIn | UserRefIn | EmailAttendeeIn,
    Field(discriminator="kind"),
]


class StartIn(_Body):
    """`days_after` days after the run, at `at` (24-hour HH:MM) in the owner's time zone."""

    days_after: int = Field(ge=0, le=MAX_DAYS_AFTER)
    at: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["10:00"])
    skip_weekends: bool = False


class CreateEventStepIn(_Body):
    """The "Create an Event" action."""

    action: Literal["create_event"]
    subject: Text = Field(min_length=1, max_length=SUBJECT_MAX_LENGTH)
    description: Text = Field(default="", max_length=20_000)
    location: Text = Field(default="", max_length=LOCATION_MAX_LENGTH)
    owner: OwnerIn
    attendees: list[AttendeeIn] = Field(default_factory=list, max_length=100)
    start: StartIn
    duration_minutes: int = Field(ge=1, le=MAX_DURATION_MINUTES)
    show_as: ShowAs = ShowAs.BUSY
    teams_meeting: bool = False


class WorkflowDefinitionIn(_Body):
    """A whole workflow definition as written by an administrator."""

    name: Text = Field(min_length=1, max_length=200)
    record_type: RecordType
    trigger: TriggerIn = Field(default_factory=lambda: ManualTriggerIn(kind="manual"))
    active: bool = True
    steps: list[CreateEventStepIn] = Field(min_length=1, max_length=MAX_STEPS)


# --- The checked form the runner uses -------------------------------------------------------------


@dataclass(frozen=True)
class ManualTrigger:
    pass


@dataclass(frozen=True)
class OnCreateTrigger:
    pass


@dataclass(frozen=True)
class OnFieldChangeTrigger:
    field: str
    value: str


Trigger = ManualTrigger | OnCreateTrigger | OnFieldChangeTrigger


@dataclass(frozen=True)
class FixedUser:
    """A staff User chosen when the workflow was defined."""

    user_id: int


@dataclass(frozen=True)
class RecordUser:
    """The User a User-valued field of the record names; `id_column` is that field's column."""

    field: str
    id_column: str


@dataclass(frozen=True)
class RecordItself:
    """The Individual or Contact the workflow runs on."""


@dataclass(frozen=True)
class FixedEmail:
    email: str


Owner = FixedUser | RecordUser
Attendee = RecordItself | RecordUser | FixedUser | FixedEmail


@dataclass(frozen=True)
class CreateEventStep:
    subject: Template
    description: Template
    location: Template
    owner: Owner
    attendees: tuple[Attendee, ...]
    start: StartRule
    duration: timedelta
    show_as: ShowAs
    teams_meeting: bool


@dataclass(frozen=True)
class Workflow:
    """A checked workflow definition (one version of it)."""

    name: str
    record_type: RecordType
    trigger: Trigger
    active: bool
    steps: tuple[CreateEventStep, ...]


# --- From one to the other ------------------------------------------------------------------------


def field_path(location: Sequence[str | int]) -> str | None:
    """Pydantic's error location `("steps", 0, "start", "at")` as `steps[0].start.at`.

    In a discriminated union pydantic adds the branch's tag (`("trigger", "on_field_change",
    "field")`); the tag is not a field of the JSON, so it is left out.
    """
    parts = list(location)
    path = ""
    for index, part in enumerate(parts):
        if isinstance(part, int):
            path += f"[{part}]"
            continue
        previous = parts[index - 1] if index else None
        before_previous = parts[index - 2] if index > 1 else None
        is_tag = previous in _UNION_FIELDS or (
            isinstance(previous, int) and before_previous in _UNION_FIELDS
        )
        if not is_tag:
            path += f".{part}" if path else part
    return path or None


# Fields holding a discriminated union (directly, or as the items of a list).
_UNION_FIELDS = frozenset({"trigger", "owner", "attendees"})


def parse_definition(raw: Mapping[str, Any]) -> WorkflowDefinitionIn:
    """Read a definition from plain JSON data, turning pydantic's errors into ours."""
    try:
        return WorkflowDefinitionIn.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = field_path(first["loc"])
        message = str(first["msg"])
        if first["type"] == "missing":
            message = "is required"
        elif first["type"] == "extra_forbidden":
            message = "is not a field of a workflow definition here"
        elif first["type"] == "string_pattern_mismatch" and field and field.endswith(".at"):
            message = "must be a 24-hour time HH:MM, such as 10:00"
        raise InvalidDefinitionError(message, field=field) from exc


def compile_definition(
    body: WorkflowDefinitionIn,
    schema: RecordSchema,
    user_exists: Callable[[int], bool],
) -> Workflow:
    """Check `body` against the record type and the users, and return the runner's form of it."""
    if schema.record_type != body.record_type:
        raise ValueError("the schema given is for another record type than the definition's")
    return Workflow(
        name=body.name,
        record_type=body.record_type,
        trigger=_compile_trigger(body.trigger, schema),
        active=body.active,
        steps=tuple(
            _compile_step(step, f"steps[{index}]", schema, user_exists)
            for index, step in enumerate(body.steps)
        ),
    )


def _compile_trigger(trigger: TriggerIn, schema: RecordSchema) -> Trigger:
    if isinstance(trigger, ManualTriggerIn):
        return ManualTrigger()
    if isinstance(trigger, OnCreateTriggerIn):
        return OnCreateTrigger()
    known = schema.trigger_fields()
    if trigger.field not in known:
        raise InvalidDefinitionError(
            f"{schema.record_type.value} has no field {trigger.field!r}; "
            f"choose one of {', '.join(sorted(known))}",
            field="trigger.field",
        )
    value = trigger.value
    if trigger.field.startswith(CUSTOM_PREFIX):
        field_type = schema.custom_fields[trigger.field.removeprefix(CUSTOM_PREFIX)]
        try:
            # Compare like with like: the CRM stores custom values as canonical text.
            value = canonical_value(field_type, value, "trigger.value")
        except CrmError as error:
            raise InvalidDefinitionError(
                f"{trigger.field} is a {field_type.value} field: {error.message}",
                field="trigger.value",
            ) from error
    return OnFieldChangeTrigger(field=trigger.field, value=value)


def _compile_step(
    step: CreateEventStepIn,
    path: str,
    schema: RecordSchema,
    user_exists: Callable[[int], bool],
) -> CreateEventStep:
    known = schema.placeholders()

    def template(source: str, name: str) -> Template:
        parsed = parse_template(source, field=f"{path}.{name}")
        check_placeholders(parsed, known, field=f"{path}.{name}")
        return parsed

    return CreateEventStep(
        subject=template(step.subject, "subject"),
        description=template(step.description, "description"),
        location=template(step.location, "location"),
        owner=_compile_user_ref(step.owner, f"{path}.owner", schema, user_exists),
        attendees=tuple(
            _compile_attendee(attendee, f"{path}.attendees[{index}]", schema, user_exists)
            for index, attendee in enumerate(step.attendees)
        ),
        start=StartRule(
            days_after=step.start.days_after,
            at=time.fromisoformat(step.start.at),
            skip_weekends=step.start.skip_weekends,
        ),
        duration=timedelta(minutes=step.duration_minutes),
        show_as=step.show_as,
        teams_meeting=step.teams_meeting,
    )


def _compile_user_ref(
    ref: UserRefIn | RecordUserRefIn,
    path: str,
    schema: RecordSchema,
    user_exists: Callable[[int], bool],
) -> FixedUser | RecordUser:
    if isinstance(ref, UserRefIn):
        if not user_exists(ref.user_id):
            raise InvalidDefinitionError(f"there is no user {ref.user_id}", field=f"{path}.user_id")
        return FixedUser(ref.user_id)
    id_column = schema.user_fields.get(ref.field)
    if id_column is None:
        offered = ", ".join(sorted(schema.user_fields)) or "none"
        raise InvalidDefinitionError(
            f"{schema.record_type.value} has no User-valued field {ref.field!r} "
            f"(User-valued fields: {offered})",
            field=f"{path}.field",
        )
    return RecordUser(field=ref.field, id_column=id_column)


def _compile_attendee(
    attendee: AttendeeIn,
    path: str,
    schema: RecordSchema,
    user_exists: Callable[[int], bool],
) -> Attendee:
    if isinstance(attendee, RecordAttendeeIn):
        return RecordItself()
    if isinstance(attendee, EmailAttendeeIn):
        return FixedEmail(str(attendee.email))
    return _compile_user_ref(attendee, path, schema, user_exists)
