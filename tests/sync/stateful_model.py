"""The stateful sync test's bookkeeping: what the harness did on each side, the sync points it saw,
and the subjects SPEC §2 lets each meeting, series and occurrence end with.

SPEC §2 makes a field a conflict only when it changed on both sides since the last sync; Microsoft
365 wins a conflict. So a CRM edit made *after* an Outlook edit had reached the CRM is a CRM-only
change and must win, while a CRM edit made before that (the two met in one merge) may lose to the
Outlook value. The harness therefore records, for every edit, what it could see of the other side
when it was made:

- an Outlook edit is *synced* once the CRM shows its value (looked at just before each CRM edit of
  that meeting, series or occurrence; it stays synced). A pull that applied it stored that value as
  the merge base in the same transaction, so the CRM showing it is proof; a pull that completed
  after the edit shows it too, unless a later CRM edit (already recorded as made after the sync)
  replaced it. Where a fault hid the outcome the CRM does not show it yet, and the edit counts as
  possibly unsynced: the allowance stays as loose as the harness's knowledge.
- a CRM edit of one occurrence is *pushed* once the organizer's Outlook occurrence shows a subject
  of its own (looked at just before each Outlook edit of the series). From then on an Outlook edit
  of the series' subject no longer reaches that occurrence (Exchange's override model: an exception
  keeps a field it overrides), so it cannot win a conflict there. For a single meeting the latest
  Outlook edit wins whether or not the CRM edit before it was pushed, so nothing more is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from tests.sync.strategies import SeriesShape

Side = Literal["crm", "outlook", "created"]


@dataclass
class Edit:
    """One subject edit, with the sync points the harness saw around it."""

    side: Side
    value: str
    synced: bool = False
    """An Outlook edit the CRM was seen to show (so its value became the merge base)."""
    after_outlook_synced: bool = True
    """A CRM edit made when the Outlook edit before it (if any) was already synced: it must win."""
    reached: frozenset[datetime] = frozenset()
    """An Outlook edit of a series: the occurrences whose subject still followed the series when it
    was made (the others overrode it: their own Outlook edit, or a CRM edit already pushed)."""
    synced_slots: set[datetime] = field(default_factory=set)
    """An Outlook edit of a series: the occurrences the CRM was seen to show it at (or a later
    series value), before a CRM edit of that occurrence."""

    def __repr__(self) -> str:
        marks = ""
        if self.side == "outlook" and self.synced:
            marks = " (synced)"
        if self.side == "crm" and not self.after_outlook_synced:
            marks = " (before the Outlook edit was synced)"
        return f"{self.side}:{self.value}{marks}"


History = list[Edit]


def outlook_edit(value: str) -> Edit:
    return Edit("outlook", value)


def crm_edit(history: History, value: str, shown_in_crm: str) -> Edit:
    """The CRM edit to `value` of an event whose CRM subject is `shown_in_crm` just before it:
    records whether the latest Outlook edit in `history` had reached the CRM (a sync point)."""
    outlook = latest_outlook(history)
    if outlook is not None and outlook.value == shown_in_crm:
        outlook.synced = True
    synced = outlook is None or outlook.synced
    return Edit("crm", value, after_outlook_synced=synced)


def latest_outlook(history: History) -> Edit | None:
    return next((edit for edit in reversed(history) if edit.side == "outlook"), None)


def allowed_subjects(history: History) -> set[str]:
    """The subjects a meeting may end with: its latest edit, or, when that was a CRM edit made
    before the latest Outlook edit had reached the CRM, also that Outlook edit (SPEC §2: a field
    changed on both sides since the last sync takes the Microsoft 365 value)."""
    latest = history[-1]
    if latest.side != "crm" or latest.after_outlook_synced:
        return {latest.value}
    outlook = latest_outlook(history[:-1])
    return {latest.value} if outlook is None else {latest.value, outlook.value}


def series_threats(series_history: History, slot: datetime) -> list[Edit]:
    """The Outlook edits of a series' subject that may have won a conflict against the CRM's own
    edit of the occurrence at `slot`: they reached the occurrence in Outlook (its subject still
    followed the series) and were not seen in the CRM's occurrence before the CRM edit."""
    return [
        edit
        for edit in series_history
        if edit.side == "outlook" and slot in edit.reached and slot not in edit.synced_slots
    ]


def see_series_in_occurrence(series_history: History, slot: datetime, shown_in_crm: str) -> None:
    """Sync points of the series' Outlook edits at one CRM occurrence: the occurrence shows an
    Outlook series edit, or a series value set after it, so that edit is in its merge base."""
    for index, edit in enumerate(series_history):
        if edit.side != "outlook":
            continue
        if shown_in_crm in {later.value for later in series_history[index:]}:
            edit.synced_slots.add(slot)


@dataclass
class Edits:
    """Subject edits of one meeting, in order."""

    history: History = field(default_factory=list)
    deleted: bool = False
    uncertain: bool = False
    """An Outlook action of the harness failed on an injected fault, possibly after Graph applied
    it: the meeting is still checked for agreement, but its edit history is not known."""


@dataclass
class Series:
    """What the harness did to one Outlook series and what the rule makes of it."""

    mailbox: str
    master_id: str | None
    shape: SeriesShape
    first: date
    slots: tuple[datetime, ...]
    """The original starts (UTC) of the occurrences the rule gives."""
    subjects: History
    """Edits of the series' subject."""
    slot_subjects: dict[datetime, History] = field(default_factory=dict)
    """Subject edits of single occurrences, by original start."""
    crm_slot_subjects: set[str] = field(default_factory=set)
    """Subjects the CRM gave single occurrences (each must have made an exception)."""
    cancelled: set[datetime] = field(default_factory=set)
    uncertain_slots: set[datetime] = field(default_factory=set)
    """Occurrences an Outlook action of the harness touched and failed on a fault."""
    crm_deleted_slots: set[datetime] = field(default_factory=set)
    """Occurrences deleted in the CRM: gone from both sides, unless edited in Outlook meanwhile
    (SPEC §2: then they come back)."""
    outlook_edited_slots: set[datetime] = field(default_factory=set)
    moved: dict[datetime, datetime] = field(default_factory=dict)
    """New starts of occurrences moved in Outlook, by original start."""
    outlook_edited: bool = False
    """The series itself was edited in Outlook (which edits its plain occurrences too)."""
    deleted: bool = False
    crm_deleted: bool = False
    uncertain: bool = False
    """A series-wide Outlook action failed on a fault: only agreement is checked."""
    attendees: dict[str, AttendeeCopy] = field(default_factory=dict)
    """What internal attendees did to their own copies, by mailbox."""

    @property
    def summary(self) -> str:
        return self.shape.summary(self.first)

    @property
    def unsure_slots(self) -> set[datetime]:
        """Occurrences that may or may not exist at the end, by the rules: a fault hid what an
        Outlook action did, or a CRM deletion met an Outlook edit (which may bring it back)."""
        unsure = set(self.uncertain_slots)
        if self.outlook_edited or self.crm_deleted:
            unsure.update(self.crm_deleted_slots)
        else:
            unsure.update(self.crm_deleted_slots & self.outlook_edited_slots)
        if self.crm_deleted:
            unsure.update(self.slots)
        return unsure

    def allowed_occurrence_subjects(self, slot: datetime) -> set[str]:
        """An occurrence's own subject edit sticks (a later series edit no longer reaches it);
        without one it shows the series' subject. An Outlook edit of the series that reached the
        plain occurrence in Outlook before the CRM's own edit of it was pushed, or that had not
        reached the CRM's occurrence when the CRM edit was made, may win the conflict with that
        edit (the occurrence then follows the series); otherwise the CRM's occurrence edit must
        survive every series edit."""
        own = self.slot_subjects.get(slot)
        if not own:
            return allowed_subjects(self.subjects)
        allowed = allowed_subjects(own)
        if own[-1].side == "crm" and series_threats(self.subjects, slot):
            allowed.update(allowed_subjects(self.subjects))
        return allowed

    def occurrence_edit_beats_the_series(self, slot: datetime) -> bool:
        """The CRM's own edit of the occurrence must survive Outlook edits of the series, by the
        sync points alone (the run counts these)."""
        own = self.slot_subjects.get(slot) or []
        outlook = any(edit.side == "outlook" for edit in self.subjects)
        return (
            bool(own)
            and own[-1].side == "crm"
            and outlook
            and not series_threats(self.subjects, slot)
        )

    def organizer_updates(self, slot: datetime) -> None:
        """The organizer's occurrence at `slot` is updated (in Outlook, or by a CRM edit the sync
        pushes): the update is a new meeting request, which puts it back on the calendar of an
        attendee who had deleted it."""
        for copy in self.attendees.values():
            copy.deleted_slots.discard(slot)

    def attendee(self, mailbox: str) -> AttendeeCopy:
        return self.attendees.setdefault(mailbox, AttendeeCopy())


@dataclass
class AttendeeCopy:
    """An internal attendee's actions on their own copy of a series (SPEC §6)."""

    deleted_slots: set[datetime] = field(default_factory=set)
    """Occurrences the attendee deleted from their calendar, which the organizer has not updated
    since (they must stay gone from the attendee's CRM calendar)."""
    uncertain: bool = False
    """An action on the copy failed on an injected fault: only agreement is checked."""
    actions: int = 0
    """Answers, show-as changes and deletions tried (for the run's counts)."""


def wins_over_a_synced_outlook_edit(history: History) -> bool:
    """The latest edit is the CRM's, made after an earlier Outlook edit had reached the CRM: only a
    sync point tells this apart from a conflict Microsoft 365 may win (the run counts these)."""
    latest = history[-1]
    return (
        latest.side == "crm"
        and latest.after_outlook_synced
        and latest_outlook(history[:-1]) is not None
    )
