"""The central test of the sync engine (issue 5): random work on both sides, faults and crashes,
then a quiet sync after which both sides agree.

A hypothesis `RuleBasedStateMachine` drives the real `SyncEngine` against the TLS emulator and a
fresh SQLite CRM database per example. It interleaves, on three staff mailboxes:

- CRM creates (some with an internal or external attendee), edits and deletions;
- Outlook creates (some inviting a colleague), edits, deletions and cancellations by organizers,
  and show-as changes on attendees' copies;
- the same meeting renamed in Outlook and then in the CRM, with or without a sync between, and a
  series renamed in Outlook and one of its occurrences in the CRM, in either order (the orders
  that decide SPEC §2's conflicts);
- recurring series (SPEC §5): Outlook creates small daily and weekly series (numbered and end-date
  ranges), edits one occurrence (subject, location or time: an exception), cancels or deletes one
  occurrence, edits the series' subject or location, deletes the series; the CRM edits an imported
  occurrence (it must become an exception in Outlook) or the series' fields (they reach the master),
  deletes a series or one occurrence, tries to change a series' recurrence (refused on the spot,
  nothing changed) and creates series with its own recurrence (they stay in the CRM, saying why);
- internal attendees' own copies of Outlook series (SPEC §6): the attendee accepts, tentatively
  accepts or declines one occurrence or the whole series, changes show-as of one occurrence or of
  the series, deletes one occurrence from their calendar; the organizer renames the series later;
- CRM saves made while a run's pull is between its delta read and its commit (after the read, or
  after planning and the Graph writes, when the write transaction must plan the event again);
- sync runs that crash at a chosen point between two writes (before/after the Graph write, before
  the CRM commit of a push or a pull, after the delta read);
- 429 / 503 / 504 / dropped connections from the emulator's fault rules, and delta-token expiry
  (410, full resync).

After a final quiet sync (no faults, no crashes; an administrator confirms any deletions the
mass-deletion guard held, as deleting a series deletes each of its occurrences) it asserts, mailbox
by mailbox: every CRM event is linked to exactly one Outlook event and agrees with it on subject,
location, times and show-as; every Outlook event is linked, or is the invitation copy of a CRM
meeting (the CRM shows that colleague a read-only copy); no meeting appears twice on anyone's
calendar on either side; and no subject edit was lost, judged by sync points
(tests/sync/stateful_model.py): the final subject is the latest edit; a CRM edit made after the
Outlook edit before it was seen in the CRM must win (a CRM-only change), and only one made before
that may lose to the Outlook edit (SPEC §2: a field changed on both sides since the last sync takes
the Microsoft 365 value). Where an injected fault hid what an action did, the harness stays loose.

For every Outlook series it also asserts: the CRM has the series once, with the summary its rule
must read as ("Every 2 days, until 10 December 2026") and the master's subject and location; every
occurrence and exception of the rule appears exactly once in the CRM, at its slot (or where Outlook
moved it) and with the fields Outlook shows; cancelled occurrences are gone from both sides; a
series deleted on either side is gone from both (unless edited in Outlook meanwhile); an
occurrence's subject is its own latest edit (or, without one, the series' latest), with the same
Microsoft 365-wins allowance, and an Outlook rename of the series may only beat the CRM's own edit
of an occurrence if it reached that occurrence in Outlook while it still showed the series' name
(the CRM edit not pushed yet) and had not reached the CRM's occurrence when the CRM edit was made;
and an occurrence the CRM edited is an exception in Outlook. CRM-made series are never linked,
never reach Outlook, and say why. For every internal attendee's copy of a series: their CRM
calendar has the series once, each occurrence of their Outlook copy exactly once and none they
deleted, each agreeing with their Outlook copy (show-as included) and with the organizer's
occurrence (a later organizer edit overrides the copy).

`make test` runs CALSYNC_STATEFUL_EXAMPLES (default 30) examples of up to CALSYNC_STATEFUL_STEPS
(default 20) steps, each starting from synced meetings and one synced series with a colleague
invited, drawn the same way every time; `CALSYNC_STATEFUL_RANDOM=1 CALSYNC_STATEFUL_EXAMPLES=500`
runs a long random session (`CALSYNC_STATEFUL_SHRINK=0` reports a failure as found, unshrunk). It
prints how many final subjects only a sync point pinned down. Bugs it found are pinned as
deterministic tests in tests/sync/runners/test_recurring_series.py and
tests/sync/runners/test_stateful_regressions.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from calsync.crm.errors import CrmError, RecurrenceManagedInMicrosoft365Error
from calsync.crm.models import Event, SyncStatus
from calsync.crm.services.event_input import AttendeeInput
from calsync.crm.services.event_rules import CRM_RECURRENCE_NOT_SYNCED
from calsync.emulator.control_client import EmulatorControl
from calsync.emulator.server import EmulatorServer
from calsync.graph.client import GraphClient
from calsync.graph.errors import GraphError, NotFound
from calsync.graph.models import Event as GraphModelEvent
from calsync.graph.models import Location
from calsync.sync.fields import ShowAs
from calsync.sync.storage.models import (
    CursorStatus,
    DeltaCursor,
    LinkOrigin,
    OutboxEntry,
    SyncLinkRecord,
)
from tests.fixtures.emulator import ADELE, LEE, MEGAN
from tests.graph.emulator_support import settings_for
from tests.sync.events import NEW_YORK
from tests.sync.runners.world import World, soon
from tests.sync.stateful_model import (
    Edit,
    Edits,
    Series,
    allowed_subjects,
    crm_edit,
    outlook_edit,
    see_series_in_occurrence,
    wins_over_a_synced_outlook_edit,
)
from tests.sync.strategies import SERIES_SHAPES, SeriesShape

STAFF = (ADELE, MEGAN, LEE)
EXAMPLES = int(os.environ.get("CALSYNC_STATEFUL_EXAMPLES", "30"))
STEPS = int(os.environ.get("CALSYNC_STATEFUL_STEPS", "20"))
PHASES = (
    tuple(Phase)
    if os.environ.get("CALSYNC_STATEFUL_SHRINK", "1") != "0"
    else (Phase.explicit, Phase.reuse, Phase.generate)
)
"""CALSYNC_STATEFUL_SHRINK=0 reports the first failing example as found (a long session's
shrinking can take longer than the run)."""
CRASH_POINTS = (
    "push.before_graph_write",
    "push.after_graph_write",
    "push.before_commit",
    "pull.after_read",
    "pull.after_graph_writes",
    "pull.before_commit",
)


PICK = st.integers(0, 10_000)
"""Which existing event a rule acts on, as an index into the events found at that moment: the
event list depends on the emulator and the database, so it must not shape what hypothesis draws."""


class SimulatedCrash(Exception):
    """The process died at a checkpoint between two writes."""


def _slots(shape: SeriesShape, start: datetime) -> tuple[datetime, ...]:
    """The occurrences' starts: the first start's New York wall-clock time on each date."""
    local = start.astimezone(NEW_YORK)
    return tuple(
        datetime.combine(day, local.time(), NEW_YORK).astimezone(UTC)
        for day in shape.first_days(local.date())
    )


def _commit_without_fsync(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA synchronous=OFF")


def _key_of(subject: str | None) -> str:
    return (subject or "").split(" ")[0]


def _is_series_part(event: Event) -> bool:
    return event.m365_recurrence_summary is not None or event.series_event_id is not None


@dataclass
class Environment:
    server: EmulatorServer
    template: Path
    directory: Path
    examples: int = 0
    steps: int = 0
    exact_verdicts: int = 0
    """Final subjects that only a sync point pinned down (a CRM edit made after the Outlook edit
    before it had reached the CRM, or an occurrence's CRM edit no Outlook series edit reached)."""
    attendee_actions: int = 0
    """Answers, show-as changes and deletions by internal attendees on their copies of series."""


class SyncMachine(RuleBasedStateMachine):
    env: ClassVar[Environment]

    def __init__(self) -> None:
        super().__init__()
        env = self.env
        env.examples += 1
        self.loop = asyncio.new_event_loop()
        self.control = EmulatorControl(env.server.base_url, verify=str(env.server.ca_path))
        self.control.reset()
        path = env.directory / f"crm-{uuid.uuid4().hex}.sqlite3"
        shutil.copyfile(env.template, path)
        self.path = path
        self.graph = GraphClient(settings_for(env.server, max_retry_seconds=3.0))
        self.outlook = GraphClient(settings_for(env.server, max_retry_seconds=3.0))
        self.world = World(f"sqlite:///{path}", self.graph, self.outlook)
        # A throwaway file: commits need not wait for the disk (crashes here are exceptions
        # between two writes, not power cuts), which keeps the run fast on a loaded machine.
        sa_event.listen(self.world.engine_db, "connect", _commit_without_fsync)
        self.world.engine_db.dispose()
        self.world.checkpoint = self._checkpoint
        self.crash_at: tuple[str, int] | None = None
        self.during_pull: tuple[str, Callable[[], None]] | None = None
        """A person's CRM save to make when a run reaches this pull checkpoint."""
        self.final_calendars: dict[str, list[GraphModelEvent]] = {}
        self.counter = 0
        self.edits: dict[str, Edits] = {}
        self.crm_ids: dict[str, int] = {}
        self.graph_ids: dict[str, tuple[str, str]] = {}
        self.series: dict[str, Series] = {}
        self.crm_series: set[str] = set()

    def _run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def _checkpoint(self, point: str) -> None:
        if self.during_pull is not None and self.during_pull[0] == point:
            _, save = self.during_pull
            self.during_pull = None
            save()
        if self.crash_at is None or self.crash_at[0] != point:
            return
        point_name, remaining = self.crash_at
        if remaining > 0:
            self.crash_at = (point_name, remaining - 1)
            return
        self.crash_at = None
        raise SimulatedCrash(point)

    def _key(self) -> str:
        self.counter += 1
        return f"m{self.counter}"

    @initialize(
        days=st.lists(st.integers(1, 40), min_size=3, max_size=3),
        shape=st.sampled_from(SERIES_SHAPES),
    )
    def both_sides_have_meetings(self, days: list[int], shape: SeriesShape) -> None:
        """Each example starts from synced meetings on both sides and one synced Outlook series
        with a colleague invited (so an attendee's own copy of a series is there too), so every
        step has work."""
        for owner, colleague, day in zip(STAFF, (*STAFF[1:], STAFF[0]), days, strict=True):
            self.crm_create(owner, day, "external")
            self.outlook_create(colleague, day + 1, owner)
        self.outlook_create_series(STAFF[0], days[0] + 2, shape, STAFF[1])
        self._run(self.world.sync.run_once())

    # ----- CRM side

    @rule(
        owner=st.sampled_from(STAFF),
        day=st.integers(1, 40),
        guest=st.sampled_from([None, "external", *STAFF]),
    )
    def crm_create(self, owner: str, day: int, guest: str | None) -> None:
        self.env.steps += 1
        key = self._key()
        attendees: tuple[AttendeeInput, ...] = ()
        if guest == "external":
            attendees = (AttendeeInput(email=f"{key}@client.example"),)
        elif guest is not None and guest != owner:
            attendees = (AttendeeInput(user_id=self.world.users[guest]),)
        self.crm_ids[key] = self.world.crm_create(owner, key, soon(day), attendees=attendees)
        self.edits[key] = Edits([Edit("crm", key)])

    def _crm_event(self, pick: int, *, after_outlook: bool = False) -> tuple[str, Event] | None:
        """An organizer's CRM meeting; with `after_outlook`, preferably one whose latest edit was
        made in Outlook."""
        choices = []
        for key, event_id in sorted(self.crm_ids.items()):
            event = self.world.crm_event(event_id)
            # SQLite may give a deleted event's id to a new one when no sync state names it.
            same = event is not None and _key_of(event.subject) == key
            if event is not None and same and event.copy_of_event_id is None:
                choices.append((key, event))
        with self.world.sessions() as session:
            for link in session.scalars(select(SyncLinkRecord).order_by(SyncLinkRecord.id)):
                event = session.get(Event, link.crm_event_id)
                if event is not None and link.is_organizer and not _is_series_part(event):
                    key = event.subject.split()[0]
                    if all(event.id != chosen.id for _, chosen in choices):
                        choices.append((key, event))
        if after_outlook:
            edited = [choice for choice in choices if self._last_edited_in_outlook(choice[0])]
            choices = edited or choices
        if not choices:
            return None
        return choices[pick % len(choices)]

    def _last_edited_in_outlook(self, key: str) -> bool:
        edits = self.edits.get(key)
        return edits is not None and bool(edits.history) and edits.history[-1].side == "outlook"

    @rule(
        pick=PICK, location=st.sampled_from(["Room 1", "Room 2", ""]), after_outlook=st.booleans()
    )
    def crm_edit(self, pick: int, location: str, after_outlook: bool) -> None:
        """A CRM edit of a meeting; with `after_outlook`, of one last edited in Outlook (synced
        since or not: SPEC §2 says which edit wins)."""
        chosen = self._crm_event(pick, after_outlook=after_outlook)
        if chosen is not None:
            self._edit_in_crm(*chosen, location)

    def _edit_in_crm(self, key: str, event: Event, location: str) -> None:
        self.env.steps += 1
        subject = f"{key} crm{self._key()}"
        history = self.edits.setdefault(key, Edits()).history
        edit = crm_edit(history, subject, event.subject)
        try:
            self.world.crm_update(event.id, subject=subject, location=location)
        except CrmError:
            return
        history.append(edit)

    @rule(pick=PICK)
    def crm_delete(self, pick: int) -> None:
        chosen = self._crm_event(pick)
        if chosen is None:
            return
        self.env.steps += 1
        key, event = chosen
        try:
            self.world.crm_delete(event.id)
        except CrmError:
            return
        self.edits.setdefault(key, Edits()).deleted = True

    # ----- Outlook side

    @rule(
        organizer=st.sampled_from(STAFF),
        day=st.integers(1, 40),
        guest=st.sampled_from([None, *STAFF]),
    )
    def outlook_create(self, organizer: str, day: int, guest: str | None) -> None:
        self.env.steps += 1
        key = self._key()
        guests = (guest,) if guest is not None and guest != organizer else ()
        self.edits[key] = Edits([outlook_edit(key)])
        try:
            created = self._run(
                self.world.outlook_create(organizer, key, soon(day), attendees=guests)
            )
        except GraphError:
            self.edits[key].uncertain = True  # the fault may have hit after Graph applied it
            return
        self.graph_ids[key] = (organizer, created.id)

    def _outlook_event(
        self, pick: int, *, organizer: bool
    ) -> tuple[str, str, GraphModelEvent] | None:
        choices: list[tuple[str, str, GraphModelEvent]] = []
        for mailbox in STAFF:
            try:
                events = self._run(self.world.outlook_events(mailbox))
            except GraphError:  # the person's Outlook met the injected faults too: no action
                return None
            for event in events:
                single = event.type == "singleInstance"
                if bool(event.is_organizer) == organizer and event.subject and single:
                    choices.append((event.subject.split()[0], mailbox, event))
        if not choices:
            return None
        choices.sort(key=lambda choice: (choice[1], choice[2].id))
        return choices[pick % len(choices)]

    @rule(pick=PICK)
    def outlook_edit(self, pick: int) -> None:
        chosen = self._outlook_event(pick, organizer=True)
        if chosen is None:
            return
        self._edit_in_outlook(*chosen)

    def _edit_in_outlook(self, key: str, mailbox: str, event: GraphModelEvent) -> None:
        self.env.steps += 1
        subject = f"{key} out{self._key()}"
        edits = self.edits.setdefault(key, Edits())
        try:
            self._run(self.world.outlook_update(mailbox, event.id, subject=subject))
        except GraphError:
            edits.uncertain = True
            return
        edits.history.append(outlook_edit(subject))

    @rule(pick=PICK, sync_between=st.booleans())
    def outlook_then_crm_edit(self, pick: int, sync_between: bool) -> None:
        """A meeting renamed in Outlook and then in the CRM, with or without a sync between: a CRM
        edit made after the Outlook edit reached the CRM is a CRM-only change and must win; made
        before, the two are a conflict Microsoft 365 wins (SPEC §2)."""
        chosen = self._outlook_event(pick, organizer=True)
        if chosen is None:
            return
        key, mailbox, event = chosen
        self._edit_in_outlook(key, mailbox, event)
        if sync_between:
            self._sync()
        link = self._link_of_graph_id(mailbox, event.id)
        crm_event = self.world.crm_event(link.crm_event_id) if link is not None else None
        if crm_event is not None and _key_of(crm_event.subject) == key:
            self._edit_in_crm(key, crm_event, "Room 2")

    def _link_of_graph_id(self, mailbox: str, graph_id: str) -> SyncLinkRecord | None:
        with self.world.sessions() as session:
            return session.scalar(
                select(SyncLinkRecord).where(
                    SyncLinkRecord.mailbox == mailbox, SyncLinkRecord.graph_id == graph_id
                )
            )

    @rule(pick=PICK, cancel=st.booleans())
    def outlook_delete(self, pick: int, cancel: bool) -> None:
        chosen = self._outlook_event(pick, organizer=True)
        if chosen is None:
            return
        self.env.steps += 1
        key, mailbox, event = chosen
        self.edits.setdefault(key, Edits()).deleted = True
        with contextlib.suppress(GraphError):
            if cancel and event.attendees:
                self._run(self.outlook.cancel_event(mailbox, event.id))
            else:
                self._run(self.world.outlook_delete(mailbox, event.id))

    @rule(pick=PICK, show_as=st.sampled_from(["free", "busy", "tentative"]))
    def attendee_changes_show_as(self, pick: int, show_as: str) -> None:
        chosen = self._outlook_event(pick, organizer=False)
        if chosen is None:
            return
        self.env.steps += 1
        _, mailbox, event = chosen
        with contextlib.suppress(GraphError):
            self._run(self.world.outlook_update(mailbox, event.id, show_as=show_as))

    # ----- an internal attendee's own copy of an Outlook series (SPEC §6)

    def _attendee_occurrence(self, pick: int) -> tuple[Series, str, GraphModelEvent] | None:
        """An occurrence of a harness series in an internal attendee's own Outlook copy."""
        choices: list[tuple[Series, str, GraphModelEvent]] = []
        for mailbox in STAFF:
            try:
                events = self._run(self.world.outlook_events(mailbox))
            except GraphError:  # the person's Outlook met the injected faults too: no action
                return None
            for event in events:
                series = self.series.get(_key_of(event.subject))
                if (
                    series is not None
                    and not event.is_organizer
                    and event.series_master_id is not None
                    and event.original_start is not None
                ):
                    choices.append((series, mailbox, event))
        if not choices:
            return None
        choices.sort(key=lambda choice: (choice[1], choice[2].original_start))
        return choices[pick % len(choices)]

    @rule(
        pick=PICK,
        answer=st.sampled_from(["accept", "tentativelyAccept", "decline"]),
        whole_series=st.booleans(),
        then_renamed=st.booleans(),
    )
    def attendee_answers_series(
        self, pick: int, answer: str, whole_series: bool, then_renamed: bool
    ) -> None:
        """An internal attendee accepts, tentatively accepts or declines one occurrence of their
        copy of a series, or the whole series (their show-as follows the answer); with
        `then_renamed`, the organizer renames the series in Outlook right after."""
        chosen = self._attendee_occurrence(pick)
        if chosen is None:
            return
        self.env.steps += 1
        series, mailbox, event = chosen
        target = event.series_master_id if whole_series else event.id
        copy = series.attendee(mailbox)
        copy.actions += 1
        try:
            self._run(
                self.outlook.transport.send(
                    "POST",
                    f"/users/{mailbox}/events/{target}/{answer}",
                    mailbox=mailbox,
                    json={"sendResponse": False},
                )
            )
        except GraphError:
            copy.uncertain = True
        if then_renamed:
            self._rename_series_in_outlook(_key_of(event.subject), series)

    @rule(
        pick=PICK,
        show_as=st.sampled_from(["free", "busy", "tentative", "oof"]),
        whole_series=st.booleans(),
    )
    def attendee_changes_series_show_as(self, pick: int, show_as: str, whole_series: bool) -> None:
        """An internal attendee changes show-as on one occurrence of their copy, or the series."""
        chosen = self._attendee_occurrence(pick)
        if chosen is None:
            return
        self.env.steps += 1
        series, mailbox, event = chosen
        target = event.series_master_id if whole_series else event.id
        assert target is not None
        copy = series.attendee(mailbox)
        copy.actions += 1
        try:
            self._run(self.world.outlook_update(mailbox, target, show_as=show_as))
        except GraphError:
            copy.uncertain = True

    @rule(pick=PICK)
    def attendee_deletes_occurrence(self, pick: int) -> None:
        """An internal attendee deletes one occurrence from their own calendar (nothing is sent to
        the organizer): it leaves their CRM calendar too, and only theirs."""
        chosen = self._attendee_occurrence(pick)
        if chosen is None:
            return
        series, mailbox, event = chosen
        slot = event.original_start
        assert slot is not None
        self.env.steps += 1
        copy = series.attendee(mailbox)
        copy.actions += 1
        try:
            self._run(self.world.outlook_delete(mailbox, event.id))
        except GraphError:
            copy.uncertain = True
            return
        if not any(edit.side == "crm" for edit in series.slot_subjects.get(slot, [])):
            # An organizer's update brings it back (a new meeting request), and a CRM edit of
            # the occurrence may not be pushed yet.
            copy.deleted_slots.add(slot)

    # ----- recurring series (SPEC §5)

    @rule(
        organizer=st.sampled_from(STAFF),
        day=st.integers(1, 40),
        shape=st.sampled_from(SERIES_SHAPES),
        guest=st.sampled_from([None, "external", *STAFF]),
    )
    def outlook_create_series(
        self, organizer: str, day: int, shape: SeriesShape, guest: str | None
    ) -> None:
        self.env.steps += 1
        key = self._key()
        start = soon(day, 15)  # 15:00 UTC: the same date in New York, whatever the season
        first = start.astimezone(NEW_YORK).date()
        guests: tuple[str, ...] = ()
        if guest == "external":
            guests = (f"{key}@client.example",)
        elif guest is not None and guest != organizer:
            guests = (guest,)
        series = Series(organizer, None, shape, first, _slots(shape, start), [Edit("created", key)])
        self.series[key] = series
        try:
            created = self._run(
                self.world.outlook_create(
                    organizer, key, start, attendees=guests, recurrence=shape.recurrence(first)
                )
            )
        except GraphError:
            series.uncertain = True
            return
        series.master_id = created.id

    def _outlook_occurrence(
        self, pick: int
    ) -> tuple[Series, str, GraphModelEvent, datetime] | None:
        choices: list[tuple[Series, str, GraphModelEvent, datetime]] = []
        organizers = {series.mailbox for series in self.series.values() if not series.deleted}
        for mailbox in sorted(organizers):
            try:
                events = self._run(self.world.outlook_events(mailbox))
            except GraphError:
                return None
            for event in events:
                series = self.series.get(_key_of(event.subject))
                if (
                    series is not None
                    and event.is_organizer
                    and event.type in ("occurrence", "exception")
                    and event.original_start is not None
                ):
                    choices.append((series, mailbox, event, event.original_start))
        if not choices:
            return None
        choices.sort(key=lambda choice: (choice[1], choice[3]))
        return choices[pick % len(choices)]

    @rule(
        pick=PICK,
        change=st.sampled_from(["subject", "location", "later"]),
        hours=st.integers(1, 2),
    )
    def outlook_edit_occurrence(self, pick: int, change: str, hours: int) -> None:
        """An organizer edits one occurrence in Outlook: it becomes an exception."""
        chosen = self._outlook_occurrence(pick)
        if chosen is None:
            return
        series, mailbox, event, slot = chosen
        self.env.steps += 1
        series.organizer_updates(slot)
        key = _key_of(event.subject)
        fields: dict[str, Any] = {}
        if change == "subject":
            fields["subject"] = f"{key} out{self._key()}"
        elif change == "location":
            fields["location"] = Location(display_name=f"Room {hours + 2}")
        else:
            start = slot + timedelta(hours=hours)
            fields.update(start=start, end=start + timedelta(hours=1), time_zone="America/New_York")
        series.outlook_edited_slots.add(slot)
        try:
            self._run(self.world.outlook_update(mailbox, event.id, **fields))
        except GraphError:
            series.uncertain_slots.add(slot)
            return
        if "subject" in fields:
            series.slot_subjects.setdefault(slot, []).append(outlook_edit(fields["subject"]))
        if "start" in fields:
            series.moved[slot] = fields["start"]

    @rule(pick=PICK, cancel=st.booleans())
    def outlook_cancel_occurrence(self, pick: int, cancel: bool) -> None:
        """An organizer cancels (meeting) or deletes one occurrence in Outlook."""
        chosen = self._outlook_occurrence(pick)
        if chosen is None:
            return
        self.env.steps += 1
        series, mailbox, event, slot = chosen
        series.cancelled.add(slot)
        try:
            if cancel and event.attendees:
                self._run(self.outlook.cancel_event(mailbox, event.id))
            else:
                self._run(self.world.outlook_delete(mailbox, event.id))
        except GraphError:
            series.uncertain_slots.add(slot)

    def _outlook_series(self, pick: int) -> tuple[str, Series, GraphModelEvent] | None:
        live = [
            (key, series)
            for key, series in sorted(self.series.items())
            if series.master_id is not None and not series.deleted
        ]
        if not live:
            return None
        key, series = live[pick % len(live)]
        assert series.master_id is not None
        try:
            master = self._run(self.world.outlook_event(series.mailbox, series.master_id))
        except GraphError:
            return None
        return key, series, master

    @rule(pick=PICK, change=st.sampled_from(["subject", "location"]))
    def outlook_edit_series(self, pick: int, change: str) -> None:
        """An organizer edits the whole series in Outlook (the master)."""
        chosen = self._outlook_series(pick)
        if chosen is not None:
            self._edit_series_in_outlook(*chosen, change)

    def _edit_series_in_outlook(
        self, key: str, series: Series, master: GraphModelEvent, change: str
    ) -> None:
        self.env.steps += 1
        edit: Edit | None = None
        fields: dict[str, Any] = {}
        if change == "subject":
            reached = self._occurrences_following_the_series(series.mailbox, master)
            if reached is None:
                return
            edit = Edit("outlook", f"{key} out{self._key()}", reached=reached)
            fields["subject"] = edit.value
        else:
            fields["location"] = Location(display_name=f"Suite {self.counter % 3}")
        series.outlook_edited = True
        try:
            self._run(self.world.outlook_update(series.mailbox, master.id, **fields))
        except GraphError:
            series.uncertain = True
            return
        if edit is not None:
            series.subjects.append(edit)

    def _occurrences_following_the_series(
        self, mailbox: str, master: GraphModelEvent
    ) -> frozenset[datetime] | None:
        """The organizer's occurrences whose subject is still the series' (a series edit reaches
        them); the others override it, by an Outlook edit or a CRM edit already pushed (a sync
        point). None when the person's Outlook met the injected faults too (no action then)."""
        try:
            events = self._run(self.world.outlook_events(mailbox))
        except GraphError:
            return None
        return frozenset(
            event.original_start
            for event in events
            if event.series_master_id == master.id
            and event.original_start is not None
            and event.subject == master.subject
        )

    @rule(pick=PICK, cancel=st.booleans())
    def outlook_delete_series(self, pick: int, cancel: bool) -> None:
        chosen = self._outlook_series(pick)
        if chosen is None:
            return
        self.env.steps += 1
        _, series, master = chosen
        series.deleted = True
        try:
            if cancel and master.attendees:
                self._run(self.outlook.cancel_event(series.mailbox, master.id))
            else:
                self._run(self.world.outlook_delete(series.mailbox, master.id))
        except GraphError:
            series.uncertain = True

    def _crm_series_events(self, *, masters: bool) -> list[tuple[Series, Event]]:
        """The organizers' synced series (`masters`) or occurrences of them, in the CRM."""
        part = (
            Event.m365_recurrence_summary.is_not(None)
            if masters
            else Event.series_event_id.is_not(None)
        )
        with self.world.sessions() as session:
            events = session.scalars(
                select(Event)
                .join(SyncLinkRecord, SyncLinkRecord.crm_event_id == Event.id)
                .where(SyncLinkRecord.is_organizer.is_(True), part)
                .order_by(Event.id)
            ).all()
        return [
            (self.series[_key_of(event.subject)], event)
            for event in events
            if _key_of(event.subject) in self.series
        ]

    def _crm_series_event(self, pick: int, *, masters: bool) -> tuple[Series, Event] | None:
        choices = self._crm_series_events(masters=masters)
        return choices[pick % len(choices)] if choices else None

    @rule(
        pick=PICK,
        location=st.sampled_from(["Board room", "Room 1", ""]),
        after_outlook=st.booleans(),
    )
    def crm_edit_occurrence(self, pick: int, location: str, after_outlook: bool) -> None:
        """Editing an imported occurrence in the CRM must make an exception in Outlook; with
        `after_outlook`, preferably one of a series whose subject was edited in Outlook."""
        choices = self._crm_series_events(masters=False)
        if after_outlook:
            edited = [
                (series, event)
                for series, event in choices
                if any(edit.side == "outlook" for edit in series.subjects)
                or any(
                    edit.side == "outlook"
                    for edit in series.slot_subjects.get(event.original_start or event.start_at, [])
                )
            ]
            choices = edited or choices
        if choices:
            self._edit_occurrence_in_crm(*choices[pick % len(choices)], location)

    def _edit_occurrence_in_crm(self, series: Series, event: Event, location: str) -> None:
        self.env.steps += 1
        assert event.original_start is not None
        slot = event.original_start
        subject = f"{_key_of(event.subject)} crm{self._key()}"
        own = series.slot_subjects.setdefault(slot, [])
        edit = crm_edit(own, subject, event.subject)
        series.organizer_updates(slot)  # once pushed
        see_series_in_occurrence(series.subjects, slot, event.subject)
        try:
            self.world.crm_update(event.id, subject=subject, location=location)
        except CrmError:
            return
        own.append(edit)
        series.crm_slot_subjects.add(subject)

    @rule(pick=PICK, location=st.sampled_from(["Main office", "Room 2", ""]))
    def crm_edit_series(self, pick: int, location: str) -> None:
        """The series' own fields edited in the CRM reach the master in Outlook."""
        chosen = self._crm_series_event(pick, masters=True)
        if chosen is not None:
            self._edit_series_in_crm(*chosen, location)

    def _edit_series_in_crm(self, series: Series, event: Event, location: str) -> None:
        self.env.steps += 1
        subject = f"{_key_of(event.subject)} crm{self._key()}"
        edit = crm_edit(series.subjects, subject, event.subject)
        try:
            self.world.crm_update(event.id, subject=subject, location=location)
        except CrmError:
            return
        series.subjects.append(edit)

    @rule(pick=PICK, occurrence_first=st.booleans())
    def crm_edits_a_series_and_one_of_its_occurrences(
        self, pick: int, occurrence_first: bool
    ) -> None:
        """A person renames a series and one meeting of it in the CRM before the next sync: both
        edits must survive (an occurrence's own value beats a series edit, as in Outlook)."""
        chosen = self._crm_series_event(pick, masters=False)
        if chosen is None:
            return
        series, occurrence = chosen
        master = next(
            (
                event
                for _, event in self._crm_series_events(masters=True)
                if event.id == occurrence.series_event_id
            ),
            None,
        )
        if master is None:
            return
        if occurrence_first:
            self._edit_occurrence_in_crm(series, occurrence, "Room 1")
        self._edit_series_in_crm(series, master, "Main office")
        if not occurrence_first:
            self._edit_occurrence_in_crm(series, occurrence, "Room 1")

    @rule(pick=PICK, crm_first=st.booleans(), sync_between=st.booleans())
    def series_renamed_in_outlook_and_occurrence_in_the_crm(
        self, pick: int, crm_first: bool, sync_between: bool
    ) -> None:
        """An organizer renames a series in Outlook and a person renames one of its occurrences in
        the CRM, in either order, with or without a sync between. The occurrence's CRM edit must
        survive unless the series edit reached the plain occurrence in Outlook before the CRM edit
        was pushed, or had not reached the CRM when the CRM edit was made (a conflict)."""
        chosen = self._crm_series_event(pick, masters=False)
        if chosen is None:
            return
        series, occurrence = chosen
        key = _key_of(occurrence.subject)
        if crm_first:
            self._edit_occurrence_in_crm(series, occurrence, "Room 1")
        elif not self._rename_series_in_outlook(key, series):
            return
        if sync_between:
            self._sync()
        if crm_first:
            self._rename_series_in_outlook(key, series)
            return
        again = self.world.crm_event(occurrence.id)
        if again is not None and _key_of(again.subject) == key:
            self._edit_occurrence_in_crm(series, again, "Room 1")

    def _rename_series_in_outlook(self, key: str, series: Series) -> bool:
        if series.master_id is None or series.deleted:
            return False
        try:
            master = self._run(self.world.outlook_event(series.mailbox, series.master_id))
        except GraphError:
            return False
        self._edit_series_in_outlook(key, series, master, "subject")
        return True

    @rule(pick=PICK, masters=st.booleans())
    def crm_delete_series_part(self, pick: int, masters: bool) -> None:
        """Deleting a synced series, or one occurrence of it, in the CRM (SPEC §2)."""
        chosen = self._crm_series_event(pick, masters=masters)
        if chosen is None:
            return
        self.env.steps += 1
        series, event = chosen
        try:
            self.world.crm_delete(event.id)
        except CrmError:
            return
        if masters:
            series.crm_deleted = True
        else:
            assert event.original_start is not None
            series.crm_deleted_slots.add(event.original_start)

    @rule(
        pick=PICK,
        masters=st.booleans(),
        rule_text=st.sampled_from(["FREQ=DAILY;COUNT=3", "FREQ=WEEKLY;INTERVAL=2;COUNT=2"]),
    )
    def crm_changes_recurrence(self, pick: int, masters: bool, rule_text: str) -> None:
        """Changing a Microsoft 365 series' recurrence in the CRM is refused and changes nothing."""
        chosen = self._crm_series_event(pick, masters=masters)
        if chosen is None:
            return
        self.env.steps += 1
        _, event = chosen
        entries = self._outbox_entries()
        with pytest.raises(RecurrenceManagedInMicrosoft365Error) as refused:
            self.world.crm_update(event.id, recurrence_rule=rule_text)
        assert refused.value.field == "recurrence_rule"
        assert "managed in Microsoft 365" in refused.value.message
        after = self.world.crm_event(event.id)
        assert after is not None
        assert (after.version, after.recurrence_rule, after.m365_recurrence_summary) == (
            event.version,
            None,
            event.m365_recurrence_summary,
        )
        assert self._outbox_entries() == entries

    def _outbox_entries(self) -> int:
        with self.world.sessions() as session:
            return session.scalar(select(func.count()).select_from(OutboxEntry)) or 0

    @rule(
        owner=st.sampled_from(STAFF),
        day=st.integers(1, 40),
        rule_text=st.sampled_from(["FREQ=DAILY;COUNT=3", "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4"]),
    )
    def crm_create_recurring(self, owner: str, day: int, rule_text: str) -> None:
        """A series made with the CRM's own recurrence stays in the CRM and says why."""
        self.env.steps += 1
        key = self._key()
        self.crm_ids[key] = self.world.crm_create(owner, key, soon(day), recurrence_rule=rule_text)
        self.edits[key] = Edits([Edit("crm", key)])
        self.crm_series.add(key)

    # ----- runs, faults, crashes

    @rule(crash=st.sampled_from([None, *CRASH_POINTS]), after=st.integers(0, 2))
    def sync_run(self, crash: str | None, after: int) -> None:
        self._sync(crash, after)

    def _sync(self, crash: str | None = None, after: int = 0) -> None:
        self.env.steps += 1
        self.crash_at = (crash, after) if crash else None
        with contextlib.suppress(SimulatedCrash, GraphError):
            self._run(self.world.sync.run_once())
        self.crash_at = None

    @rule(
        pick=PICK,
        point=st.sampled_from(["pull.after_read", "pull.after_graph_writes"]),
        part=st.sampled_from(["meeting", "occurrence", "series"]),
    )
    def crm_edit_during_a_pull(self, pick: int, point: str, part: str) -> None:
        """A person saves a meeting, an occurrence or a series in the CRM while a run's pull is
        between its delta read and its commit (no session is held then): the pull plans it from
        what it reads, or re-plans it in its write transaction, and never overwrites it."""

        def save() -> None:
            if part == "meeting":
                chosen = self._crm_event(pick)
                if chosen is not None:
                    self._edit_in_crm(*chosen, "Room 1")
                return
            series_part = self._crm_series_event(pick, masters=part == "series")
            if series_part is None:
                return
            if part == "series":
                self._edit_series_in_crm(*series_part, "Main office")
            else:
                self._edit_occurrence_in_crm(*series_part, "Board room")

        self.during_pull = (point, save)
        self._sync()
        self.during_pull = None

    @rule(
        kind=st.sampled_from(["throttled", "unavailable", "gateway_timeout", "apply_then_drop"]),
        count=st.integers(1, 3),
        mailbox=st.sampled_from(STAFF),
    )
    def fault(self, kind: str, count: int, mailbox: str) -> None:
        self.env.steps += 1
        self.control.add_fault(kind, next_requests=count, mailbox=mailbox, retry_after_seconds=0)

    @rule(mailbox=st.sampled_from(STAFF))
    def delta_token_expires(self, mailbox: str) -> None:
        self.env.steps += 1
        self.control.expire_delta_tokens(mailbox)

    # ----- the verdict

    def teardown(self) -> None:
        try:
            self.control.clear_faults()
            for _ in range(3):
                self._run(self.world.sync.run_once())
                self._administrator_confirms_held_deletions()
            self._run(self.world.sync.run_once())
            self._check_agreement()
        finally:
            self._run(self.graph.aclose())
            self._run(self.outlook.aclose())
            self.loop.close()
            self.world.close()
            self.control.close()
            self.path.unlink(missing_ok=True)

    def _administrator_confirms_held_deletions(self) -> None:
        """Every deletion the harness made was meant: deleting a series deletes each of its
        occurrences, so small mailboxes often trip the mass-deletion guard (SPEC §9), and the
        administrator confirms, as the sync page asks."""
        with self.world.sessions() as session:
            held = session.scalars(
                select(DeltaCursor.mailbox).where(
                    DeltaCursor.status == CursorStatus.NEEDS_ATTENTION
                )
            ).all()
        for mailbox in held:
            self.world.sync.confirm_held_deletions(mailbox)

    def _check_agreement(self) -> None:
        world = self.world
        crm_organizer_icaluids: set[str] = set()
        with world.sessions() as session:
            for link in session.scalars(select(SyncLinkRecord)):
                if link.origin is LinkOrigin.CRM and link.is_organizer and link.ical_uid:
                    crm_organizer_icaluids.add(link.ical_uid)
        outlook_keys_anywhere: set[str] = set()
        for mailbox in STAFF:
            outlook = {e.id: e for e in self._final_calendar(mailbox)}
            outlook_keys_anywhere.update(_key_of(e.subject) for e in outlook.values())
            crm_events = world.crm_events(mailbox)
            with world.sessions() as session:
                links = {
                    link.crm_event_id: link
                    for link in session.scalars(
                        select(SyncLinkRecord).where(SyncLinkRecord.mailbox == mailbox)
                    )
                }
                copies = session.scalars(
                    select(Event).where(
                        Event.owner_id == world.users[mailbox], Event.copy_of_event_id.is_not(None)
                    )
                ).all()
            linked_graph_ids = set()
            for event in crm_events:
                linked = links.get(event.id)
                if event.recurrence_rule is not None:
                    assert linked is None, f"{mailbox}: the CRM series '{event.subject}' was synced"
                    assert event.sync_status is SyncStatus.NOT_SYNCED, (mailbox, event.subject)
                    assert event.sync_message == CRM_RECURRENCE_NOT_SYNCED, (mailbox, event.subject)
                    continue
                assert linked is not None, f"{mailbox}: CRM event '{event.subject}' is not synced"
                if event.m365_recurrence_summary is not None:
                    other = self._master(mailbox, linked.graph_id)
                    assert other is not None, (
                        f"{mailbox}: the series '{event.subject}' is in the CRM but not in Outlook"
                    )
                else:
                    assert linked.graph_id in outlook, (
                        f"{mailbox}: '{event.subject}' is in the CRM but not in Outlook"
                    )
                    other = outlook[linked.graph_id]
                assert other.subject == event.subject, (mailbox, other.subject, event.subject)
                assert other.times().start == event.start_at, (mailbox, event.subject)
                assert other.times().end == event.end_at, (mailbox, event.subject)
                location = other.location.display_name if other.location else ""
                assert (location or "") == (event.location or ""), (mailbox, event.subject)
                assert event.show_as.value == _show_as(other).value, (mailbox, event.subject)
                linked_graph_ids.add(linked.graph_id)
            for graph_id, other in outlook.items():
                if graph_id in linked_graph_ids:
                    continue
                invitation_of_crm_meeting = (
                    not other.is_organizer and other.ical_uid in crm_organizer_icaluids
                )
                assert invitation_of_crm_meeting, (
                    f"{mailbox}: Outlook event '{other.subject}' never reached the CRM"
                )
            keys = [_crm_identity(e) for e in (*crm_events, *copies)]
            duplicates = [key for key, count in Counter(keys).items() if count > 1]
            assert not duplicates, f"{mailbox} sees a meeting twice in the CRM: {duplicates}"
            outlook_keys = [_outlook_identity(e) for e in outlook.values() if e.subject]
            duplicates = [key for key, count in Counter(outlook_keys).items() if count > 1]
            assert not duplicates, f"{mailbox} sees a meeting twice in Outlook: {duplicates}"
            for event in crm_events:
                if not _is_series_part(event):
                    self._check_no_edit_lost(event)
        reached_outlook = self.crm_series & outlook_keys_anywhere
        assert not reached_outlook, f"CRM-made series reached Outlook: {sorted(reached_outlook)}"
        for key, series in sorted(self.series.items()):
            self.env.attendee_actions += sum(copy.actions for copy in series.attendees.values())
            self._check_series(key, series)
            for mailbox in STAFF:
                if mailbox != series.mailbox:
                    self._check_attendee_copy(key, series, mailbox)

    def _final_calendar(self, mailbox: str) -> list[GraphModelEvent]:
        """The mailbox's Outlook calendar after the quiet sync, read once for every check."""
        if mailbox not in self.final_calendars:
            self.final_calendars[mailbox] = self._run(self.world.outlook_events(mailbox))
        return self.final_calendars[mailbox]

    def _check_attendee_copy(self, key: str, series: Series, mailbox: str) -> None:
        """SPEC §6 for an internal attendee's own copy of an Outlook series: their CRM calendar
        holds the series once and each occurrence of their Outlook copy exactly once (none they
        deleted), each agreeing with the organizer's occurrence: later organizer edits override
        the copy, and nobody sees the meeting twice."""
        copy = series.attendees.get(mailbox)
        outlook = [
            e
            for e in self._final_calendar(mailbox)
            if _key_of(e.subject) == key and not e.is_organizer and e.series_master_id
        ]
        crm = [e for e in self.world.crm_events(mailbox) if _key_of(e.subject) == key]
        if not outlook and not crm:
            return
        masters = [e for e in crm if e.m365_recurrence_summary is not None]
        occurrences = [e for e in crm if e.series_event_id is not None]
        assert len(masters) + len(occurrences) == len(crm), f"{mailbox}: series {key}: {crm}"
        if outlook:
            assert len(masters) == 1, f"{mailbox} has series {key} {len(masters)} times in the CRM"
            assert masters[0].m365_recurrence_summary == series.summary, (mailbox, key)
        counts = Counter(e.original_start for e in occurrences)
        twice = sorted(str(slot) for slot, count in counts.items() if count > 1)
        assert not twice, f"{mailbox}: occurrences {twice} of series {key} are in the CRM twice"
        slots = {e.original_start for e in outlook}
        assert set(counts) == slots, (
            f"{mailbox}: series {key}: CRM occurrences {sorted(map(str, counts))}, their Outlook "
            f"copy {sorted(map(str, slots))}"
        )
        if copy is not None and not copy.uncertain:
            kept = sorted(str(slot) for slot in copy.deleted_slots & set(counts))
            assert not kept, (
                f"{mailbox} deleted occurrences {kept} of {key}; the CRM still has them"
            )
        if series.uncertain or series.master_id is None:
            return
        organizer = {
            e.original_start: e
            for e in self.world.crm_events(series.mailbox)
            if _key_of(e.subject) == key and e.series_event_id is not None
        }
        for event in occurrences:
            own = organizer.get(event.original_start)
            if own is None or event.original_start in series.unsure_slots:
                continue
            assert (event.subject, event.start_at, event.location) == (
                own.subject,
                own.start_at,
                own.location,
            ), (
                f"{mailbox}'s occurrence {event.original_start} of {key} shows "
                f"{(event.subject, event.start_at, event.location)}, the organizer's "
                f"{(own.subject, own.start_at, own.location)}"
            )

    def _master(self, mailbox: str, graph_id: str) -> GraphModelEvent | None:
        try:
            master: GraphModelEvent = self._run(self.world.outlook_event(mailbox, graph_id))
        except NotFound:
            return None
        return master

    def _check_series(self, key: str, series: Series) -> None:
        """SPEC §5 for one Outlook series, on its organizer's side."""
        if series.master_id is None:
            return  # its creation failed on a fault: the agreement checks cover whatever exists
        mailbox = series.mailbox
        crm = [e for e in self.world.crm_events(mailbox) if _key_of(e.subject) == key]
        master = self._master(mailbox, series.master_id)
        if series.deleted and not series.uncertain:
            assert master is None, f"series {key} was deleted in Outlook but is still there"
        touched = series.outlook_edited or series.outlook_edited_slots or series.uncertain
        if series.crm_deleted and not touched:
            assert master is None, f"series {key} was deleted in the CRM but is still in Outlook"
        if master is None:
            left = [e.subject for e in crm]
            assert not left, f"series {key} is gone from Outlook but the CRM still has {left}"
            return
        masters = [e for e in crm if e.m365_recurrence_summary is not None]
        instances = {
            e.original_start: e
            for e in self._final_calendar(mailbox)
            if e.series_master_id == master.id
        }
        if not instances and not masters:
            # Every occurrence was cancelled before the series was ever synced: delta never
            # showed it, and an empty series has nothing to show in the CRM.
            assert not crm, f"series {key}: {[e.subject for e in crm]}"
            return
        assert len(masters) == 1, f"series {key} is in the CRM {len(masters)} times"
        [crm_master] = masters
        assert crm_master.m365_recurrence_summary == series.summary, (key, series.shape)
        master_link = self.world.link_of(crm_master.id)
        assert master_link is not None
        assert master_link.graph_id == master.id
        occurrences = [e for e in crm if e.series_event_id is not None]
        assert len(occurrences) + 1 == len(crm), f"series {key}: {[e.subject for e in crm]}"
        assert all(e.series_event_id == crm_master.id for e in occurrences), key
        counts = Counter(e.original_start for e in occurrences)
        twice = sorted(slot for slot, count in counts.items() if count > 1 and slot is not None)
        assert not twice, f"series {key}: occurrences {twice} are in the CRM twice"
        assert set(counts) == set(instances), (
            f"series {key}: CRM occurrences {sorted(map(str, counts))}, Outlook "
            f"{sorted(map(str, instances))}"
        )
        unsure = series.unsure_slots
        expected = set(series.slots) - series.cancelled - series.crm_deleted_slots - unsure
        assert set(counts) - unsure == expected, (
            f"series {key}: occurrences {sorted(map(str, counts))}; the rule and the "
            f"cancellations give {sorted(map(str, expected))}"
        )
        for event in occurrences:
            assert event.original_start is not None
            other = instances[event.original_start]
            link = self.world.link_of(event.id)
            assert link is not None
            assert link.graph_id == other.id, f"series {key}: {event.subject} is linked elsewhere"
            if event.subject in series.crm_slot_subjects:
                assert other.type == "exception", (
                    f"series {key}: the CRM edit '{event.subject}' did not make an exception"
                )
            if series.uncertain or event.original_start in unsure:
                continue
            start = series.moved.get(event.original_start, event.original_start)
            assert (event.start_at, event.end_at) == (start, start + timedelta(hours=1)), (
                f"series {key}: occurrence {event.original_start} is at {event.start_at}, "
                f"Outlook moved it to {start}"
            )
            allowed = series.allowed_occurrence_subjects(event.original_start)
            own = series.slot_subjects.get(event.original_start, [])
            if series.occurrence_edit_beats_the_series(event.original_start) or (
                own and wins_over_a_synced_outlook_edit(own)
            ):
                self.env.exact_verdicts += 1
            assert event.subject in allowed, (
                f"series {key}: occurrence {event.original_start} ended as '{event.subject}'; "
                f"its edits allow {sorted(allowed)} (series: {series.subjects}, own: "
                f"{series.slot_subjects.get(event.original_start)})"
            )
        if not series.uncertain:
            allowed = allowed_subjects(series.subjects)
            if wins_over_a_synced_outlook_edit(series.subjects):
                self.env.exact_verdicts += 1
            assert crm_master.subject in allowed, (
                f"series {key} ended as '{crm_master.subject}'; its edits allow {sorted(allowed)}"
            )

    def _check_no_edit_lost(self, event: Event) -> None:
        key = event.subject.split()[0]
        edits = self.edits.get(key)
        if edits is None or edits.deleted or edits.uncertain or not edits.history:
            return
        latest = edits.history[-1]
        if latest.side == "outlook":
            assert event.subject == latest.value, f"the Outlook edit '{latest.value}' was lost"
            return
        allowed = allowed_subjects(edits.history)
        if wins_over_a_synced_outlook_edit(edits.history):
            self.env.exact_verdicts += 1
        assert event.subject in allowed, (
            f"the CRM edit '{latest.value}' was lost to '{event.subject}', which no rule explains "
            f"(edits: {edits.history})"
        )


def _show_as(event: GraphModelEvent) -> ShowAs:
    """The show-as the CRM must hold for an Outlook event (`unknown` is stored as busy)."""
    show_as = ShowAs.parse(event.show_as or "busy")
    return ShowAs.BUSY if show_as is ShowAs.UNKNOWN else show_as


def _crm_identity(event: Event) -> tuple[str, str]:
    """What makes a CRM event one meeting: its key, and for a series part, which part."""
    if event.m365_recurrence_summary is not None:
        return _key_of(event.subject), "series"
    if event.series_event_id is not None:
        return _key_of(event.subject), str(event.original_start)
    return _key_of(event.subject), ""


def _outlook_identity(event: GraphModelEvent) -> tuple[str, str]:
    if event.type in ("occurrence", "exception"):
        return _key_of(event.subject), str(event.original_start)
    return _key_of(event.subject), ""


@pytest.fixture
def environment(
    sqlite_template: Path, emulator_server: EmulatorServer, tmp_path: Path
) -> Environment:
    return Environment(emulator_server, sqlite_template, tmp_path)


@pytest.mark.timeout(max(300, EXAMPLES * 12))
def test_both_sides_agree_after_any_interleaving_of_work_faults_and_crashes(
    environment: Environment,
) -> None:
    SyncMachine.env = environment
    run_state_machine_as_test(
        SyncMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=os.environ.get("CALSYNC_STATEFUL_RANDOM") is None,
            phases=PHASES,
        ),
    )
    print(
        f"stateful sync: {environment.examples} examples, {environment.steps} steps, "
        f"{environment.exact_verdicts} verdicts fixed by sync points, "
        f"{environment.attendee_actions} attendee actions on series copies"
    )
