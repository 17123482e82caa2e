"""A series edit pushed from the CRM, as its occurrences see it (SPEC §5).

When the CRM pushes a change of a series' own fields (subject, location, …) to its master,
Microsoft 365 applies it to every occurrence that still shows the series' old value; exceptions
keep the values they were given. That change of the occurrences is CalSync's own write, but the
occurrences' links do not know it, so the next delta shows it as an Outlook edit of each
occurrence. Usually that is harmless (the CRM occurrence takes the series' new value), but an
occurrence whose field was edited in the CRM and not yet pushed would lose that edit to a
"conflict" with the CRM's own series edit — and a CRM edit of an occurrence is that occurrence's
own value, which a series edit never overrides in Outlook either.

`rebase_occurrences_on_series_push` records the pushed series value as those occurrences' merge
base, so the next merge sees Microsoft 365 unchanged and the CRM's occurrence edit as the change
to push (the occurrence then becomes an exception). Occurrences without a pending CRM edit of the
field keep their base: the next delta brings the series value to the CRM as an ordinary update.
An occurrence deleted in the CRM whose deletion was not sent yet is rebased on the pushed value
too: otherwise its delete meets a 412 and the pull reads our own series value as an Outlook edit
of an event deleted in the CRM, and brings the meeting back. An occurrence deleted after the series
edit was pushed, before a pull brought the series' value to it, has a base older than that value;
the pull merges it with the series' synced value as its base, and so it does for an occurrence
the CRM edited in that window (`occurrence_link_after_series_push`).

The same holds for a series write whose record a crash lost (a write in flight): whichever run
settles it as our own — the push's retry or the pull — rebases the occurrences as recording it
would have (`settled_series_write` names the write that took effect). The pull plans occurrences
before its write transaction, so it asks for the rebased bases without writing
(`rebased_occurrence_bases`) and stores them with the master's link.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from calsync.crm.models import Event
from calsync.sync.actions import UpdateInGraph
from calsync.sync.fields import SYNCED_FIELDS, EventSnapshot
from calsync.sync.merge import base_with_write_in_flight, changed_fields
from calsync.sync.runners.convert import crm_event_of, sync_link_of
from calsync.sync.state import GraphEvent, GraphEventType, SyncLink
from calsync.sync.storage.models import SyncLinkRecord
from calsync.sync.storage.snapshots import snapshot_from_json, snapshot_to_json

SERIES_WIDE_FIELDS: frozenset[str] = frozenset(SYNCED_FIELDS) - {"timing", "recurrence"}
"""Fields a series edit carries to its occurrences (times and the rule belong to each slot)."""


def settled_series_write(link: SyncLink, graph: GraphEvent) -> UpdateInGraph | None:
    """The series write in flight on a master's link that Microsoft 365 shows took effect, as the
    PATCH that recording it would have described (its fields: those Graph holds as we sent them,
    `merge.base_with_write_in_flight`). None for any other link, or when none of it arrived."""
    if link.pending is None or link.event_type is not GraphEventType.SERIES_MASTER:
        return None
    settled = base_with_write_in_flight(link.base, link.pending.snapshot, graph.snapshot)
    took_effect = changed_fields(link.base, settled)
    if not took_effect:
        return None
    return UpdateInGraph(link.graph_id, link.mailbox, took_effect, settled, None)


def rebase_occurrences_on_series_push(session: Session, pushed: UpdateInGraph) -> int:
    """Call in the transaction that records a successful PATCH of a series master, *before* the
    master's link is saved (its base is still the series as last synced). Returns how many
    occurrence links were rebased."""
    rebased = _rebased_occurrences(session, pushed)
    for record, base in rebased:
        record.base = snapshot_to_json(base)
    return len(rebased)


def rebased_occurrence_bases(session: Session, pushed: UpdateInGraph) -> dict[str, EventSnapshot]:
    """The merge bases, by Graph id, that `rebase_occurrences_on_series_push` would give the
    occurrences of the master `pushed` wrote, computed without changing anything. The master's
    link must still hold its base from before that write."""
    return {record.graph_id: base for record, base in _rebased_occurrences(session, pushed)}


def _rebased_occurrences(
    session: Session, pushed: UpdateInGraph
) -> list[tuple[SyncLinkRecord, EventSnapshot]]:
    """Each occurrence link whose base the series write `pushed` moves, with its new base."""
    master = session.scalar(
        select(SyncLinkRecord).where(
            SyncLinkRecord.mailbox == pushed.mailbox, SyncLinkRecord.graph_id == pushed.graph_id
        )
    )
    if master is None or master.event_type != GraphEventType.SERIES_MASTER.value:
        return []
    before = snapshot_from_json(master.base)
    changed = [
        name
        for name in pushed.fields
        if name in SERIES_WIDE_FIELDS and getattr(before, name) != getattr(pushed.snapshot, name)
    ]
    if not changed:
        return []
    rebased: list[tuple[SyncLinkRecord, EventSnapshot]] = []
    for record in _occurrence_links(session, pushed):
        event = session.get(Event, record.crm_event_id)
        base = snapshot_from_json(record.base)
        if event is None:
            # Deleted in the CRM, its deletion not sent yet: the series value reaching it in
            # Outlook is our own write, not an Outlook edit that would bring it back (SPEC §2).
            values = _followed_the_series(changed, before, base, pushed.snapshot)
        else:
            crm = crm_event_of(session, event, record.mailbox, sync_link_of(record)).snapshot
            values = _own_edits_kept(changed, before, base, crm, pushed.snapshot)
        if values:
            rebased.append((record, replace(base, **values)))
    return rebased


def occurrence_link_after_series_push(
    link: SyncLink,
    links: Mapping[str, SyncLinkRecord],
    graph: GraphEvent,
    crm: EventSnapshot | None,
) -> SyncLink:
    """The link of an occurrence as the pull must merge it when the CRM deleted it (`crm` None) or
    holds its own edit of a field not pushed yet: where Outlook shows the series' own synced value
    (its master's base, or our write in flight on it), that value is the series' change reaching
    the occurrence — our own push, or a series value the CRM already holds — and belongs to the
    base. It is not an Outlook edit of the occurrence, which would bring a deleted meeting back
    (SPEC §2) or beat the occurrence's own CRM edit (an occurrence edit beats a series edit, as in
    Outlook). That happens when the CRM deletes or edits an occurrence after a series edit was
    pushed but before a pull brought the series' new value to the occurrence."""
    master = links.get(graph.series_master_id) if graph.series_master_id else None
    if master is None:
        return link
    known = [snapshot_from_json(master.base)]
    if master.pending_snapshot is not None:
        known.append(snapshot_from_json(master.pending_snapshot))
    values = {
        name: getattr(graph.snapshot, name)
        for name in SERIES_WIDE_FIELDS
        if getattr(graph.snapshot, name) != getattr(link.base, name)
        and any(getattr(graph.snapshot, name) == getattr(series, name) for series in known)
        and (crm is None or getattr(crm, name) != getattr(link.base, name))
    }
    return replace(link, base=replace(link.base, **values)) if values else link


def _occurrence_links(session: Session, pushed: UpdateInGraph) -> list[SyncLinkRecord]:
    return list(
        session.scalars(
            select(SyncLinkRecord).where(
                SyncLinkRecord.mailbox == pushed.mailbox,
                SyncLinkRecord.series_master_graph_id == pushed.graph_id,
            )
        )
    )


def _followed_the_series(
    fields: list[str],
    series_before: EventSnapshot,
    occurrence_base: EventSnapshot,
    series_after: EventSnapshot,
) -> dict[str, Any]:
    """The fields where Outlook moves the occurrence to the series' new value (it showed the old
    one)."""
    return {
        name: getattr(series_after, name)
        for name in fields
        if getattr(occurrence_base, name) == getattr(series_before, name)
    }


def _own_edits_kept(
    fields: list[str],
    series_before: EventSnapshot,
    occurrence_base: EventSnapshot,
    occurrence_in_crm: EventSnapshot,
    series_after: EventSnapshot,
) -> dict[str, Any]:
    """The fields where Outlook moves the occurrence to the series' new value (it showed the old
    one) while the CRM holds an edit of the occurrence not yet pushed."""
    return {
        name: getattr(series_after, name)
        for name in fields
        if getattr(occurrence_base, name) == getattr(series_before, name)
        and getattr(occurrence_in_crm, name) != getattr(occurrence_base, name)
    }
