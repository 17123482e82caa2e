"""Scheduled runs: each mailbox at the configured frequency, spread over the period."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from calsync.runtime.schedule import next_run_at, offset_fraction

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
FIFTEEN_MINUTES = timedelta(minutes=15)


def test_a_firms_mailboxes_are_spread_evenly_over_the_period() -> None:
    mailboxes = [f"advisor{number}@harborview.example" for number in range(2000)]
    slots = Counter(int(offset_fraction(mailbox) * 15) for mailbox in mailboxes)
    # 15 one-minute slots of a 15-minute period: about 133 runs start in each, none crowded.
    assert len(slots) == 15
    assert max(slots.values()) < 2 * min(slots.values())


def test_a_mailbox_keeps_its_offset_whatever_its_case() -> None:
    assert offset_fraction("Ana.Lopez@Harborview.example") == offset_fraction(
        " ana.lopez@harborview.example"
    )


def test_a_never_pulled_mailbox_runs_within_the_first_minute() -> None:
    due = next_run_at("ana.lopez@harborview.example", None, FIFTEEN_MINUTES, NOW)
    assert NOW <= due < NOW + timedelta(minutes=1)


@settings(max_examples=200, deadline=None)
@given(
    mailbox=st.emails(),
    minutes=st.sampled_from([5, 15, 30, 60, 120, 1440]),
    since_last=st.integers(min_value=0, max_value=10**7),
)
def test_the_next_run_is_the_mailboxs_own_slot_one_period_apart(
    mailbox: str, minutes: int, since_last: int
) -> None:
    period = timedelta(minutes=minutes)
    last = NOW - timedelta(seconds=since_last % (3 * minutes * 60))
    due = next_run_at(mailbox, last, period, NOW)
    # Never sooner than half a period after the last run, never later than 1.5 periods.
    assert last + period / 2 <= due <= last + period * 1.5
    # Always on the mailbox's own slot, the same one every period.
    again = next_run_at(mailbox, due, period, NOW)
    assert again - due == period
