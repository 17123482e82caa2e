"""When each mailbox's scheduled pull is due: at the configured frequency, spread over the period.

Every mailbox gets a fixed offset within the period, derived from its address, and runs at
`offset + k × period` (counted from the Unix epoch). So a firm's runs are spread evenly instead of
all starting at once, every process computes the same slots for the same mailbox, and a restart
does not bunch them up. A mailbox that was never pulled runs within the first minute (its first
run links what already exists), also spread by its offset.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FIRST_RUN_SPREAD = timedelta(minutes=1)


def offset_fraction(mailbox: str) -> float:
    """A stable number in [0, 1) for `mailbox` (the same in every process and release)."""
    digest = hashlib.blake2b(mailbox.strip().lower().encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def next_run_at(
    mailbox: str, last_run_at: datetime | None, period: timedelta, first_seen_at: datetime
) -> datetime:
    """The time the next scheduled pull of `mailbox` is due.

    After a run, the next slot at least half a period later (a "sync now" just before a slot does
    not cause a second run right after it); before any run, within the first minute after the
    scheduler first saw the mailbox.
    """
    fraction = offset_fraction(mailbox)
    if last_run_at is None:
        return first_seen_at + min(period, FIRST_RUN_SPREAD) * fraction
    earliest = last_run_at + period / 2
    offset = period * fraction
    periods = (earliest - EPOCH - offset) // period
    slot = EPOCH + offset + period * periods
    while slot < earliest:
        slot += period
    return slot
