"""Triggers: run the workflows that react to a record being created or a field changing.

The CRM's services have no hook mechanism, and should not know about workflows, so the trigger
hook listens to the database session instead: `install_workflow_triggers(session_factory)` makes
every session of that factory note, at each flush, which Individuals and Contacts were created and
which of their fields (standard or custom) changed, and, once the transaction has committed, run the
matching workflows in a session of their own. Whatever path changed the record — the API, the web
pages, the CLI, the demo — the workflow reacts, and only to changes that were really saved.

`fire` is the same reaction as a plain function, for callers that know of a change themselves.

Rules (documented in docs/workflows.md):
- a record created with a field already at the trigger's value counts as the field changing to it;
- values compare trimmed and case-insensitively ("review" matches "Review"), and a field fires only
  when its value *becomes* the trigger's: "Review" corrected to "review" is not a new firing, nor is
  a value that a transaction sets and changes again before it commits;
- each firing has a key (`created:individual:7`, `changed:individual:7:custom.stage=Review@<stamp>`,
  the stamp being the changed row's `updated_at`), and a workflow answers a key at most once.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import InstanceState, Session, sessionmaker

from calsync.crm.models import (
    Contact,
    CustomFieldDefinition,
    CustomFieldValue,
    Individual,
    RecordType,
)
from calsync.crm.models.base import utc_now
from calsync.workflows.models import TriggerKind, WorkflowDefinition, WorkflowRun
from calsync.workflows.record_schema import CUSTOM_PREFIX, STANDARD_FIELDS
from calsync.workflows.runs import run_workflow

logger = logging.getLogger(__name__)

_PENDING = "calsync.workflows.pending_changes"
_INSTALLED: weakref.WeakSet[sessionmaker[Session]] = weakref.WeakSet()


# An old value the session had not loaded (a write without a read): it may or may not have matched.
UNKNOWN_OLD_VALUE = object()
# What `_old_value` answers for a field the flush did not change.
_UNCHANGED = object()


@dataclass
class FieldChange:
    """One field's change in one transaction: its value before, after, and a stamp of the change.

    `old` is the value before the transaction's first write to the field (None when the record or
    value is new; `UNKNOWN_OLD_VALUE` when the session had not loaded it), `new` the value after its
    last write.
    """

    old: object
    new: str | None
    stamp: str


@dataclass
class RecordChange:
    """What one transaction did to one record: created it, and/or changed fields."""

    record_type: RecordType
    record_id: int
    created: bool = False
    # Changed fields as workflows name them (`first_name`, `custom.stage`).
    fields: dict[str, FieldChange] = field(default_factory=dict)
    # Custom field changes by custom field definition id, named once the transaction committed.
    custom_by_definition: dict[int, FieldChange] = field(default_factory=dict)


def _merge(changes: dict[Any, FieldChange], key: object, change: FieldChange) -> None:
    """Fold a later flush's change of the same field into the transaction's change."""
    earlier = changes.get(key)
    changes[key] = change if earlier is None else FieldChange(earlier.old, change.new, change.stamp)


def fire(
    session: Session,
    change: RecordChange,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> list[WorkflowRun]:
    """Run every active workflow that `change` triggers; returns their runs (each committed)."""
    _name_custom_fields(session, change)
    definitions = session.scalars(
        select(WorkflowDefinition)
        .where(
            WorkflowDefinition.record_type == change.record_type,
            WorkflowDefinition.active.is_(True),
            WorkflowDefinition.trigger_kind != TriggerKind.MANUAL,
        )
        .order_by(WorkflowDefinition.id)
    ).all()
    runs = []
    for definition in definitions:
        firing_key = _firing_key(definition, change)
        if firing_key is not None:
            runs.append(
                run_workflow(
                    session,
                    definition,
                    change.record_id,
                    trigger_kind=definition.trigger_kind,
                    firing_key=firing_key,
                    clock=clock,
                )
            )
    return runs


def _firing_key(definition: WorkflowDefinition, change: RecordChange) -> str | None:
    """The key of the firing `change` is for `definition`, or None when it does not trigger it."""
    record = f"{change.record_type.value}:{change.record_id}"
    if definition.trigger_kind is TriggerKind.ON_CREATE:
        return f"created:{record}" if change.created else None
    watched = definition.trigger_field or ""
    changed = change.fields.get(watched)
    if changed is None or not _same_value(changed.new, definition.trigger_value):
        return None
    if isinstance(changed.old, str) and _same_value(changed.old, definition.trigger_value):
        # "Review" edited to "review" is not the field becoming Review: it already was.
        return None
    return f"changed:{record}:{watched}={definition.trigger_value}@{changed.stamp}"


def _same_value(value: str | None, wanted: str | None) -> bool:
    if value is None or wanted is None:
        return False
    return value.strip().casefold() == wanted.strip().casefold()


def _name_custom_fields(session: Session, change: RecordChange) -> None:
    if not change.custom_by_definition:
        return
    rows = session.execute(
        select(CustomFieldDefinition.id, CustomFieldDefinition.key).where(
            CustomFieldDefinition.id.in_(change.custom_by_definition)
        )
    )
    keys = {row.id: row.key for row in rows}
    for definition_id, value in change.custom_by_definition.items():
        if definition_id in keys:
            _merge(change.fields, f"{CUSTOM_PREFIX}{keys[definition_id]}", value)
    change.custom_by_definition.clear()


# --- The session hook ---------------------------------------------------------------------------


def install_workflow_triggers(
    session_factory: sessionmaker[Session], *, clock: Callable[[], datetime] = utc_now
) -> None:
    """Make sessions of `session_factory` run triggered workflows after each commit.

    Installing twice on the same factory changes nothing (the app and a test may both do it).
    """
    if session_factory in _INSTALLED:
        return
    _INSTALLED.add(session_factory)
    event.listen(session_factory, "after_flush", _note_changes)
    event.listen(session_factory, "after_rollback", _forget_changes)

    def run_after_commit(session: Session) -> None:
        changes: dict[tuple[RecordType, int], RecordChange] = session.info.pop(_PENDING, {})
        if changes:
            _fire_all(session_factory, changes.values(), clock)

    event.listen(session_factory, "after_commit", run_after_commit)


def _fire_all(
    session_factory: sessionmaker[Session],
    changes: Iterable[RecordChange],
    clock: Callable[[], datetime],
) -> None:
    for change in changes:
        with session_factory() as session:
            try:
                fire(session, change, clock=clock)
            except Exception:
                # The record change is already committed; a fault in a workflow must not turn it
                # into an error for whoever saved the record. Runs record their own refusals, so
                # only faults (bugs, a lost database) reach this point.
                logger.exception(
                    "workflow triggers for %s %s failed", change.record_type, change.record_id
                )


def _forget_changes(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _note_changes(session: Session, _flush_context: Any) -> None:
    """Record this flush's creations and field changes (attribute history is still there)."""
    pending: dict[tuple[RecordType, int], RecordChange] = session.info.setdefault(_PENDING, {})

    def change_of(record_type: RecordType, record_id: int) -> RecordChange:
        return pending.setdefault(
            (record_type, record_id), RecordChange(record_type=record_type, record_id=record_id)
        )

    for instance in session.new:
        if isinstance(instance, Individual | Contact):
            record_type = _record_type(instance)
            change = change_of(record_type, instance.id)
            change.created = True
            stamp = _stamp(instance.updated_at)
            for name in STANDARD_FIELDS[record_type]:
                _merge(
                    change.fields,
                    name,
                    FieldChange(None, _text(_field_value(instance, name)), stamp),
                )
        elif isinstance(instance, CustomFieldValue):
            _note_custom_value(
                instance, FieldChange(None, instance.value, _stamp(instance.updated_at)), change_of
            )
    for instance in session.dirty:
        if isinstance(instance, Individual | Contact):
            record_type = _record_type(instance)
            for name in STANDARD_FIELDS[record_type]:
                old = _old_value(instance, name) if name != "name" else _UNCHANGED
                if old is not _UNCHANGED:
                    _merge(
                        change_of(record_type, instance.id).fields,
                        name,
                        FieldChange(
                            old, _text(getattr(instance, name)), _stamp(instance.updated_at)
                        ),
                    )
        elif isinstance(instance, CustomFieldValue):
            old = _old_value(instance, "value")
            if old is not _UNCHANGED:
                _note_custom_value(
                    instance,
                    FieldChange(old, instance.value, _stamp(instance.updated_at)),
                    change_of,
                )
    for instance in session.deleted:
        if isinstance(instance, CustomFieldValue):
            _note_custom_value(instance, FieldChange(instance.value, None, _stamp(None)), change_of)


def _note_custom_value(
    value: CustomFieldValue,
    change: FieldChange,
    change_of: Callable[[RecordType, int], RecordChange],
) -> None:
    if value.individual_id is not None:
        record = change_of(RecordType.INDIVIDUAL, value.individual_id)
    elif value.contact_id is not None:
        record = change_of(RecordType.CONTACT, value.contact_id)
    else:
        return
    _merge(record.custom_by_definition, value.definition_id, change)


def _old_value(instance: object, attribute: str) -> object:
    """The value `attribute` had before this flush wrote it (as text or None), `UNKNOWN_OLD_VALUE`
    if it was not loaded, or `_UNCHANGED` (history is still there in after_flush)."""
    state: InstanceState[object] = inspect(instance)
    history = state.attrs[attribute].history
    if not history.has_changes():
        return _UNCHANGED
    if history.deleted:
        return _text(history.deleted[0])
    return UNKNOWN_OLD_VALUE


def _record_type(person: Individual | Contact) -> RecordType:
    return RecordType.INDIVIDUAL if isinstance(person, Individual) else RecordType.CONTACT


def _field_value(person: Individual | Contact, name: str) -> object:
    return person.display_name if name == "name" else getattr(person, name)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _stamp(updated_at: datetime | None) -> str:
    return (updated_at or utc_now()).isoformat()
