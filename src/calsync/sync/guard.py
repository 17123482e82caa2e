"""The mass-deletion guard (SPEC §9): a wiped mailbox must never wipe the CRM, nor the reverse.

Before a run applies any deletion, the runner counts what it would delete on each side and asks
`check_mass_deletion`. If one side would lose *most* of the mailbox's synced events, nothing is
deleted on either side: the mailbox is marked as needing attention, and an administrator confirms
or discards the deletions. Creations and updates of the same run still go through.

"Most" is more than half. Small mailboxes get a floor: a run deleting at most `floor` events (5 by
default) always proceeds, so tidying a calendar of three events is not blocked, while a mailbox of
ten losing six is. A full listing (first run, or a resync after 410) that comes back empty while the
mailbox had at least `floor + 1` synced events is held as well — the typical sign of revoked access
or a misconfigured mailbox rather than a person deleting everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from calsync.sync.actions import DeleteInCrm, DeleteInGraph, EventPlan
from calsync.sync.errors import InvalidGuardInput


class GuardVerdict(StrEnum):
    PROCEED = "proceed"
    HOLD_FOR_ADMIN = "hold_for_admin"


class HoldReason(StrEnum):
    """Why a run was held, as a machine-readable code for the status page."""

    MOST_CRM_EVENTS_WOULD_BE_DELETED = "most_crm_events_would_be_deleted"
    MOST_MICROSOFT_365_EVENTS_WOULD_BE_DELETED = "most_microsoft365_events_would_be_deleted"
    MAILBOX_CAME_BACK_EMPTY = "mailbox_came_back_empty"


@dataclass(frozen=True, slots=True)
class GuardPolicy:
    """The threshold: hold when deletions exceed `share` of the synced events and exceed `floor`."""

    share: float = 0.5
    floor: int = 5

    def __post_init__(self) -> None:
        if not 0 < self.share < 1:
            raise InvalidGuardInput("share must lie strictly between 0 and 1", field="share")
        if self.floor < 0:
            raise InvalidGuardInput("floor must not be negative", field="floor")


DEFAULT_POLICY = GuardPolicy()


@dataclass(frozen=True, slots=True)
class GuardDecision:
    """The guard's answer; `message` is written for the administrator who must decide."""

    verdict: GuardVerdict
    reason: HoldReason | None = None
    message: str = ""

    @property
    def proceed(self) -> bool:
        return self.verdict is GuardVerdict.PROCEED


_PROCEED = GuardDecision(GuardVerdict.PROCEED)


def check_mass_deletion(
    mailbox: str,
    synced_events: int,
    crm_deletions: int,
    microsoft365_deletions: int,
    *,
    policy: GuardPolicy = DEFAULT_POLICY,
) -> GuardDecision:
    """Proceed, or hold the run's deletions for an administrator.

    `synced_events` is the number of links of the mailbox before the run; `crm_deletions` the CRM
    events the run would delete (Outlook-side deletions), `microsoft365_deletions` the Graph events
    it would delete or cancel (CRM-side deletions).
    """
    _check_count("synced_events", synced_events)
    _check_count("crm_deletions", crm_deletions)
    _check_count("microsoft365_deletions", microsoft365_deletions)
    for name, count in (
        ("crm_deletions", crm_deletions),
        ("microsoft365_deletions", microsoft365_deletions),
    ):
        if count > synced_events:
            raise InvalidGuardInput(
                f"{count} deletions but only {synced_events} synced events", field=name
            )
    if _too_many(crm_deletions, synced_events, policy):
        return GuardDecision(
            GuardVerdict.HOLD_FOR_ADMIN,
            HoldReason.MOST_CRM_EVENTS_WOULD_BE_DELETED,
            f"This run would delete {crm_deletions} of the {synced_events} synced events of "
            f"{mailbox} from the CRM because they disappeared from Microsoft 365. Nothing was "
            "deleted. Check that the mailbox is connected and its calendar intact, then confirm or "
            "discard the deletions.",
        )
    if _too_many(microsoft365_deletions, synced_events, policy):
        return GuardDecision(
            GuardVerdict.HOLD_FOR_ADMIN,
            HoldReason.MOST_MICROSOFT_365_EVENTS_WOULD_BE_DELETED,
            f"This run would delete {microsoft365_deletions} of the {synced_events} synced events "
            f"of {mailbox} from Microsoft 365 because they disappeared from the CRM. Nothing was "
            "deleted. Check the CRM data, then confirm or discard the deletions.",
        )
    return _PROCEED


@dataclass(frozen=True, slots=True)
class PlannedDeletions:
    """How many deletions a run's plans would apply on each side."""

    crm: int
    microsoft365: int


def count_deletions(plans: Iterable[EventPlan]) -> PlannedDeletions:
    """Count the deletions in a run's plans, for `check_mass_deletion` before applying any."""
    crm = microsoft365 = 0
    for plan in plans:
        for action in plan.actions:
            if isinstance(action, DeleteInCrm):
                crm += 1
            elif isinstance(action, DeleteInGraph):
                microsoft365 += 1
    return PlannedDeletions(crm, microsoft365)


def check_full_listing(
    mailbox: str,
    synced_events: int,
    listed_events: int,
    *,
    policy: GuardPolicy = DEFAULT_POLICY,
) -> GuardDecision:
    """Hold a full listing (initial round or resync) that came back empty for a busy mailbox.

    Run it before matching the listing against the links: an empty answer where hundreds of events
    were synced means the mailbox, not the person, changed.
    """
    _check_count("synced_events", synced_events)
    _check_count("listed_events", listed_events)
    if listed_events == 0 and synced_events > policy.floor:
        return GuardDecision(
            GuardVerdict.HOLD_FOR_ADMIN,
            HoldReason.MAILBOX_CAME_BACK_EMPTY,
            f"Microsoft 365 returned no events at all for {mailbox}, which had {synced_events} "
            "synced events. Nothing was deleted. The mailbox may have been emptied, reconnected or "
            "its access revoked; check it, then confirm or discard the deletions.",
        )
    return _PROCEED


def _too_many(deletions: int, synced_events: int, policy: GuardPolicy) -> bool:
    return deletions > policy.floor and deletions > synced_events * policy.share


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidGuardInput(f"{value!r} is not a count of events", field=name)
