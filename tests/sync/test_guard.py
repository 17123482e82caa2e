"""The mass-deletion guard (SPEC §9): a wiped mailbox never wipes the CRM, nor the reverse."""

from __future__ import annotations

import pytest

from calsync.sync.actions import DeleteInCrm, DeleteInGraph, DeleteMethod, EventPlan, ForgetLink
from calsync.sync.errors import InvalidGuardInput
from calsync.sync.guard import (
    GuardPolicy,
    GuardVerdict,
    HoldReason,
    PlannedDeletions,
    check_full_listing,
    check_mass_deletion,
    count_deletions,
)

MAILBOX = "dana.whitfield@harborwealth.example"


def test_a_run_deleting_most_crm_events_of_a_mailbox_is_held_for_an_admin() -> None:
    decision = check_mass_deletion(MAILBOX, 400, crm_deletions=380, microsoft365_deletions=0)
    assert decision.verdict is GuardVerdict.HOLD_FOR_ADMIN
    assert decision.reason is HoldReason.MOST_CRM_EVENTS_WOULD_BE_DELETED
    assert "380 of the 400" in decision.message
    assert MAILBOX in decision.message
    assert "Nothing was deleted" in decision.message


def test_a_crm_wipe_does_not_wipe_the_mailbox() -> None:
    decision = check_mass_deletion(MAILBOX, 400, crm_deletions=0, microsoft365_deletions=399)
    assert not decision.proceed
    assert decision.reason is HoldReason.MOST_MICROSOFT_365_EVENTS_WOULD_BE_DELETED


def test_deleting_exactly_half_proceeds() -> None:
    assert check_mass_deletion(MAILBOX, 400, 200, 0).proceed


def test_deleting_one_more_than_half_is_held() -> None:
    assert not check_mass_deletion(MAILBOX, 400, 201, 0).proceed


def test_deleting_two_of_three_events_is_not_blocked() -> None:
    assert check_mass_deletion(MAILBOX, 3, 2, 0).proceed


def test_the_small_mailbox_floor_is_five_deletions() -> None:
    assert check_mass_deletion(MAILBOX, 6, 5, 0).proceed
    assert not check_mass_deletion(MAILBOX, 10, 6, 0).proceed


def test_ordinary_deletions_in_a_busy_mailbox_proceed() -> None:
    assert check_mass_deletion(MAILBOX, 500, 12, 30).proceed


def test_the_threshold_can_be_tightened() -> None:
    strict = GuardPolicy(share=0.2, floor=2)
    assert not check_mass_deletion(MAILBOX, 20, 5, 0, policy=strict).proceed


def test_an_empty_full_listing_after_hundreds_of_events_is_held() -> None:
    decision = check_full_listing(MAILBOX, synced_events=350, listed_events=0)
    assert decision.reason is HoldReason.MAILBOX_CAME_BACK_EMPTY
    assert "350" in decision.message


def test_an_empty_listing_of_a_nearly_empty_mailbox_proceeds() -> None:
    assert check_full_listing(MAILBOX, synced_events=4, listed_events=0).proceed
    assert check_full_listing(MAILBOX, synced_events=350, listed_events=349).proceed


@pytest.mark.parametrize(
    ("synced", "crm", "graph", "field"),
    [
        (-1, 0, 0, "synced_events"),
        (10, -2, 0, "crm_deletions"),
        (10, 0, 11, "microsoft365_deletions"),
        (10, 11, 0, "crm_deletions"),
    ],
)
def test_impossible_counts_are_refused_naming_the_field(
    synced: int, crm: int, graph: int, field: str
) -> None:
    with pytest.raises(InvalidGuardInput) as error:
        check_mass_deletion(MAILBOX, synced, crm, graph)
    assert error.value.field == field


def test_a_policy_outside_its_range_is_refused() -> None:
    with pytest.raises(InvalidGuardInput):
        GuardPolicy(share=1.5)
    with pytest.raises(InvalidGuardInput):
        GuardPolicy(floor=-1)


def test_the_deletions_of_a_run_are_counted_per_side_from_its_plans() -> None:
    plans = [
        EventPlan(actions=(DeleteInCrm("evt-1", 2),), link=ForgetLink()),
        EventPlan(actions=(DeleteInCrm("evt-2", 5),), link=ForgetLink()),
        EventPlan(actions=(DeleteInGraph("AAMk3", MAILBOX, DeleteMethod.CANCEL, "CK"),)),
        EventPlan(),
    ]
    assert count_deletions(plans) == PlannedDeletions(crm=2, microsoft365=1)
