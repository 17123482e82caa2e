"""Per-field three-way merge of one event, and the delete-versus-edit rules (SPEC §2).

The merge base is the snapshot last synced to both sides. Against it, each field is decided on its
own:

| CRM vs base | Microsoft 365 vs base | result | written to |
|---|---|---|---|
| same | same | base | nowhere |
| changed | same | CRM value | Microsoft 365 |
| same | changed | Microsoft 365 value | CRM |
| changed | changed, equal values | that value | nowhere (both already agree) |
| changed | changed, different | Microsoft 365 value, a `Conflict` | CRM |

"Written to" is not a separate table: a field is written to a side exactly when the merged value
differs from what that side holds now. That single rule is what makes the engine echo-free — a value
that came from a side is never sent back to it — and makes an update that changes no synced field
write nothing anywhere, whatever its version stamps say.

With no base (state lost, or a first run linking events that already exist on both sides, SPEC §7
and §9), every difference is a conflict and Microsoft 365 wins it: the safe reading of "Microsoft
365 takes precedence" when nobody knows who changed what.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from enum import StrEnum
from typing import Any

from calsync.sync.fields import SYNCED_FIELDS, AllDaySpan, EventSnapshot, TimedSpan
from calsync.sync.recurrence import Recurrence
from calsync.sync.recurrence_summary import summarize_recurrence


@dataclass(frozen=True, slots=True)
class Conflict:
    """A field changed differently on both sides since the last sync; Microsoft 365's value won.

    `base` is None when the last synced state was unknown (a re-link). All values are the snapshot's
    own normalised values, so a person reading the sync log sees what was compared.
    """

    field: str
    base: Any
    crm_value: Any
    microsoft365_value: Any

    def describe(self) -> str:
        """One line for the sync log: which field, what was lost, what was kept."""
        return (
            f"{self.field} was changed in both the CRM and Microsoft 365; kept the Microsoft 365 "
            f"value {describe_value(self.microsoft365_value)} and discarded the CRM value "
            f"{describe_value(self.crm_value)}"
        )


@dataclass(frozen=True, slots=True)
class MergeResult:
    """The merged snapshot and, per side, the fields whose merged value differs from that side's."""

    merged: EventSnapshot
    write_to_crm: tuple[str, ...]
    write_to_graph: tuple[str, ...]
    conflicts: tuple[Conflict, ...]
    refused_crm_changes: tuple[str, ...] = ()
    """Fields the CRM changed but may not change (see `merge_fields`); reverted in the CRM."""

    @property
    def writes_nothing(self) -> bool:
        return not self.write_to_crm and not self.write_to_graph


def merge_fields(
    base: EventSnapshot | None,
    crm: EventSnapshot,
    microsoft365: EventSnapshot,
    *,
    crm_read_only: frozenset[str] = frozenset(),
) -> MergeResult:
    """Merge one event field by field; Microsoft 365 wins a field changed on both sides (SPEC §2).

    `crm_read_only` names fields whose CRM-side changes are refused rather than merged — a series'
    recurrence (SPEC §5) or a Teams flag switched off after the fact (SPEC §4). The CRM is then set
    back to the Microsoft 365 value and the field is listed in `refused_crm_changes`, never in
    `conflicts`.
    """
    merged_values: dict[str, Any] = {}
    conflicts: list[Conflict] = []
    refused: list[str] = []
    for name in SYNCED_FIELDS:
        crm_value = getattr(crm, name)
        graph_value = getattr(microsoft365, name)
        if base is None:
            if crm_value != graph_value and name not in crm_read_only:
                conflicts.append(Conflict(name, None, crm_value, graph_value))
            merged_values[name] = graph_value
            continue
        base_value = getattr(base, name)
        crm_changed = crm_value != base_value
        graph_changed = graph_value != base_value
        if crm_changed and name in crm_read_only:
            if crm_value != graph_value:
                refused.append(name)
            merged_values[name] = graph_value
        elif crm_changed and graph_changed:
            if crm_value != graph_value:
                conflicts.append(Conflict(name, base_value, crm_value, graph_value))
            merged_values[name] = graph_value
        elif crm_changed:
            merged_values[name] = crm_value
        else:
            merged_values[name] = graph_value
    merged = _snapshot_with(merged_values, microsoft365, crm)
    return MergeResult(
        merged=merged,
        write_to_crm=_differing_fields(merged, crm),
        write_to_graph=_differing_fields(merged, microsoft365),
        conflicts=tuple(conflicts),
        refused_crm_changes=tuple(refused),
    )


def _snapshot_with(
    values: dict[str, Any], microsoft365: EventSnapshot, crm: EventSnapshot
) -> EventSnapshot:
    """The merged snapshot, reusing a side's own object when every value came from it.

    Snapshots normalise on construction; skipping a rebuild keeps a run over a mailbox whose events
    mostly did not change cheap.
    """
    for side in (microsoft365, crm):
        if all(getattr(side, name) is value for name, value in values.items()):
            return side
    return replace(microsoft365, **values)


def base_with_write_in_flight(
    base: EventSnapshot, in_flight: EventSnapshot, microsoft365: EventSnapshot
) -> EventSnapshot:
    """The merge base when a write of ours may have reached Microsoft 365 without being recorded.

    A crash between a Graph write and the commit recording it leaves Microsoft 365 with a version
    the link does not know. Merged against the recorded base, the values we sent would look like
    Outlook edits and win over anything the CRM changed since. So, field by field: where Microsoft
    365 holds the value we sent, that value is the base (it was our write: a newer CRM edit of the
    field wins, and nothing is echoed back); elsewhere the recorded base stays (the write never
    arrived, or Outlook changed the field after it, and Outlook's change is merged as usual).
    Content decides, as everywhere in the merge: a change key alone proves nothing.
    """
    values = {
        name: getattr(in_flight, name)
        for name in SYNCED_FIELDS
        if getattr(in_flight, name) != getattr(base, name)
        and getattr(microsoft365, name) == getattr(in_flight, name)
    }
    return replace(base, **values) if values else base


def changed_fields(before: EventSnapshot, after: EventSnapshot) -> tuple[str, ...]:
    """The synced fields whose content differs between two snapshots, in `SYNCED_FIELDS` order."""
    return _differing_fields(after, before)


def _differing_fields(left: EventSnapshot, right: EventSnapshot) -> tuple[str, ...]:
    return tuple(name for name in SYNCED_FIELDS if getattr(left, name) != getattr(right, name))


@dataclass(frozen=True, slots=True)
class DeletionResolution:
    """What to do when one side deleted an event the other side still has.

    `propagate` True: delete it on the surviving side too. False: bring the deleted side back from
    the survivor. `lost_crm_edits` lists CRM changes an Outlook deletion discards, for the sync log.
    """

    propagate: bool
    lost_crm_edits: tuple[str, ...] = ()
    restoring_outlook_edits: tuple[str, ...] = ()


def resolve_deleted_in_crm(base: EventSnapshot, microsoft365: EventSnapshot) -> DeletionResolution:
    """Deleted in the CRM: delete in Microsoft 365, unless edited in Outlook since (SPEC §2)."""
    edits = changed_fields(base, microsoft365)
    if edits:
        return DeletionResolution(propagate=False, restoring_outlook_edits=edits)
    return DeletionResolution(propagate=True)


def resolve_deleted_in_outlook(base: EventSnapshot, crm: EventSnapshot) -> DeletionResolution:
    """Deleted in Outlook: delete in the CRM even if edited there; log the lost edit (SPEC §2)."""
    return DeletionResolution(propagate=True, lost_crm_edits=changed_fields(base, crm))


def describe_value(value: Any) -> str:
    """A short rendering of a snapshot value for the sync log, in the words a person uses."""
    text: str
    if value is None:
        text = "none"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, StrEnum):
        text = value.value
    elif isinstance(value, str):
        text = f"'{value}'"
    elif isinstance(value, TimedSpan):
        start, end = value.local_start(), value.local_end()
        until = end.strftime("%H:%M") if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}"
        text = f"{start:%Y-%m-%d %H:%M}–{until} ({value.time_zone})"
    elif isinstance(value, AllDaySpan):
        last_day = value.end_day - timedelta(days=1)
        text = f"{value.first_day.isoformat()} all day"
        if last_day != value.first_day:
            text = f"{value.first_day.isoformat()} to {last_day.isoformat()} all day"
    elif isinstance(value, Recurrence):
        text = summarize_recurrence(value)
    elif isinstance(value, frozenset):
        text = "{" + ", ".join(sorted(getattr(item, "address", str(item)) for item in value)) + "}"
    else:
        text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
