"""The workflow form's flat fields ↔ a workflow definition's JSON (`WorkflowDefinitionIn`).

The admin page edits a workflow's trigger and its first "Create an Event" step with ordinary
inputs; this module builds the definition the workflow store checks (`store.define_workflow`,
`store.update_workflow`) and reads a stored version back into the form. No rule lives here: every
value is checked by the store, whose `InvalidDefinitionError` names a path in the JSON
(`steps[0].start.at`); `form_field_of` turns that path into the input that produced it, so the
message is shown next to the right field. Steps after the first (written through the API or CLI)
are kept as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from calsync.web.pages.forms import checkbox, text

LABELS = {
    "name": "Name",
    "record_type": "Record type",
    "active": "Active",
    "trigger_kind": "Trigger",
    "trigger_field": "Field",
    "trigger_value": "Value",
    "subject": "Subject",
    "description": "Description",
    "location": "Location",
    "owner_kind": "Owner",
    "owner_field": "Owner field",
    "owner_user_id": "Owner user",
    "attendee_record": "Invite the record",
    "attendee_user_ids": "Staff attendees",
    "attendee_emails": "Other attendees",
    "days_after": "Days after the run",
    "at": "Start time",
    "skip_weekends": "Skip weekends",
    "duration_minutes": "Duration (minutes)",
    "show_as": "Show as",
    "teams_meeting": "Teams meeting",
}

# A path in the definition JSON → the form field that produced it.
_PATHS = {
    "name": "name",
    "record_type": "record_type",
    "active": "active",
    "trigger": "trigger_kind",
    "trigger.kind": "trigger_kind",
    "trigger.field": "trigger_field",
    "trigger.value": "trigger_value",
    "steps": "subject",
    "steps[0]": "subject",
    "steps[0].subject": "subject",
    "steps[0].description": "description",
    "steps[0].location": "location",
    "steps[0].owner": "owner_kind",
    "steps[0].owner.kind": "owner_kind",
    "steps[0].owner.field": "owner_field",
    "steps[0].owner.user_id": "owner_user_id",
    "steps[0].attendees": "attendee_emails",
    "steps[0].start": "days_after",
    "steps[0].start.days_after": "days_after",
    "steps[0].start.at": "at",
    "steps[0].start.skip_weekends": "skip_weekends",
    "steps[0].duration_minutes": "duration_minutes",
    "steps[0].show_as": "show_as",
    "steps[0].teams_meeting": "teams_meeting",
}
_ATTENDEE = re.compile(r"^steps\[0\]\.attendees\[(\d+)\]")

DEFAULTS = {
    "record_type": "individual",
    "active": "on",
    "trigger_kind": "manual",
    "owner_kind": "record_user",
    "owner_field": "advisor",
    "attendee_record": "on",
    "days_after": "0",
    "at": "10:00",
    "duration_minutes": "60",
    "show_as": "busy",
}


@dataclass
class WorkflowForm:
    """What the form shows and sends: text values, ticked boxes and chosen staff attendees."""

    values: dict[str, str] = field(default_factory=lambda: dict(DEFAULTS))
    attendee_user_ids: list[str] = field(default_factory=list)
    # Steps after the first, and attendees named by a field of the record (`record_user`), both
    # written through the API or CLI: carried over unchanged from the stored version.
    later_steps: list[Any] = field(default_factory=list)
    kept_attendees: list[Any] = field(default_factory=list)

    def ticked(self, name: str) -> bool:
        return self.values.get(name) == "on"


def read_workflow_form(form: FormData) -> WorkflowForm:
    values = {name: text(form, name) for name in LABELS if name != "attendee_user_ids"}
    for name in ("active", "attendee_record", "skip_weekends", "teams_meeting"):
        values[name] = "on" if checkbox(form, name) else ""
    users = [str(raw).strip() for raw in form.getlist("attendee_user_ids") if str(raw).strip()]
    return WorkflowForm(values=values, attendee_user_ids=users)


def _number(raw: str) -> int | str:
    """Whole numbers as numbers; anything else is passed on for the store to refuse by name."""
    return int(raw) if raw.isdigit() else raw


@dataclass(frozen=True)
class BuiltDefinition:
    body: dict[str, Any]
    # Which form field each attendee in `steps[0].attendees` came from.
    attendee_fields: tuple[str, ...]


def definition_from_form(workflow: WorkflowForm) -> BuiltDefinition:
    """The definition JSON the form describes."""
    values = workflow.values
    trigger: dict[str, Any] = {"kind": values["trigger_kind"] or "manual"}
    if trigger["kind"] == "on_field_change":
        trigger["field"] = values["trigger_field"]
        trigger["value"] = values["trigger_value"]
    owner: dict[str, Any] = {"kind": values["owner_kind"]}
    if values["owner_kind"] == "user":
        owner["user_id"] = _number(values["owner_user_id"])
    else:
        owner["field"] = values["owner_field"]
    attendees: list[dict[str, Any]] = []
    sources: list[str] = []
    if workflow.ticked("attendee_record"):
        attendees.append({"kind": "record"})
        sources.append("attendee_record")
    for user_id in workflow.attendee_user_ids:
        attendees.append({"kind": "user", "user_id": _number(user_id)})
        sources.append("attendee_user_ids")
    for email in values["attendee_emails"].splitlines():
        if email.strip():
            attendees.append({"kind": "email", "email": email.strip()})
            sources.append("attendee_emails")
    for kept in workflow.kept_attendees:
        attendees.append(dict(kept))
        sources.append("_form")
    step = {
        "action": "create_event",
        "subject": values["subject"],
        "description": values["description"],
        "location": values["location"],
        "owner": owner,
        "attendees": attendees,
        "start": {
            "days_after": _number(values["days_after"]),
            "at": values["at"],
            "skip_weekends": workflow.ticked("skip_weekends"),
        },
        "duration_minutes": _number(values["duration_minutes"]),
        "show_as": values["show_as"],
        "teams_meeting": workflow.ticked("teams_meeting"),
    }
    body = {
        "name": values["name"],
        "record_type": values["record_type"],
        "trigger": trigger,
        "active": workflow.ticked("active"),
        "steps": [step, *workflow.later_steps],
    }
    return BuiltDefinition(body, tuple(sources))


def form_from_definition(body: Mapping[str, Any]) -> WorkflowForm:
    """A stored version's definition, as the form shows it for editing."""
    steps: Sequence[Mapping[str, Any]] = body.get("steps") or [{}]
    step = steps[0]
    trigger = body.get("trigger") or {"kind": "manual"}
    owner = step.get("owner") or {}
    start = step.get("start") or {}
    attendees = step.get("attendees") or []
    values = {
        "name": str(body.get("name", "")),
        "record_type": str(body.get("record_type", "individual")),
        "active": "on" if body.get("active", True) else "",
        "trigger_kind": str(trigger.get("kind", "manual")),
        "trigger_field": str(trigger.get("field", "")),
        "trigger_value": str(trigger.get("value", "")),
        "subject": str(step.get("subject", "")),
        "description": str(step.get("description", "")),
        "location": str(step.get("location", "")),
        "owner_kind": str(owner.get("kind", "record_user")),
        "owner_field": str(owner.get("field", "")),
        "owner_user_id": str(owner.get("user_id", "")),
        "attendee_record": "on" if any(a.get("kind") == "record" for a in attendees) else "",
        "attendee_emails": "\n".join(
            str(a["email"]) for a in attendees if a.get("kind") == "email"
        ),
        "days_after": str(start.get("days_after", 0)),
        "at": str(start.get("at", "10:00")),
        "skip_weekends": "on" if start.get("skip_weekends") else "",
        "duration_minutes": str(step.get("duration_minutes", 60)),
        "show_as": str(step.get("show_as", "busy")),
        "teams_meeting": "on" if step.get("teams_meeting") else "",
    }
    users = [str(a["user_id"]) for a in attendees if a.get("kind") == "user"]
    return WorkflowForm(
        values=values,
        attendee_user_ids=users,
        later_steps=list(steps[1:]),
        kept_attendees=[a for a in attendees if a.get("kind") == "record_user"],
    )


def form_field_of(path: str | None, attendee_fields: Sequence[str]) -> str:
    """The form field a definition path names; `_form` for a path the form does not edit."""
    if path is None:
        return "_form"
    attendee = _ATTENDEE.match(path)
    if attendee:
        index = int(attendee.group(1))
        return attendee_fields[index] if index < len(attendee_fields) else "attendee_emails"
    return _PATHS.get(path, "_form")
