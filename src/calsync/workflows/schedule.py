"""When a workflow's event starts: "in N days at HH:MM in the owner's time zone".

The arithmetic is done on the owner's calendar, not on elapsed time: "7 days later at 10:00" is
10:00 on the owner's wall clock seven calendar days after the run's date *in the owner's zone*,
whatever daylight-saving change lies between (so the elapsed time may be 167 or 169 hours). The
rules for the edges, chosen to match what a person reading their calendar expects:

- **Weekends.** With `skip_weekends`, a start that falls on a Saturday or Sunday moves to the
  following Monday, same time. Moving forward (not back to Friday) keeps the promise "at least N
  days later" and can never put the meeting before the run itself.
- **A local time that does not exist** (the hour skipped when clocks go forward, e.g. 02:30 on the
  morning New York springs forward) is moved forward by the length of the gap: 02:30 becomes 03:30.
  That is where a clock that had not yet been changed would point.
- **A local time that happens twice** (the hour repeated when clocks go back) is the first of the
  two, the one still on summer time, so the meeting is not an hour later than the wall clock first
  shows it.

Nothing here reads the clock: the run time is an argument, which keeps the rules testable to
exhaustion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_DAYS_AFTER = 3650  # ten years: further than any process a firm plans, and a typo guard.
_SATURDAY = 5


@dataclass(frozen=True)
class StartRule:
    """When a step's event starts: `days_after` days after the run, at `at` on the owner's clock."""

    days_after: int
    at: time
    skip_weekends: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.days_after <= MAX_DAYS_AFTER:
            raise ValueError(f"days_after must be between 0 and {MAX_DAYS_AFTER}")
        if self.at.tzinfo is not None:
            raise ValueError("the time of day is a wall-clock time in the owner's zone, no offset")


def start_date(rule: StartRule, run_at: datetime, zone: ZoneInfo) -> date:
    """The calendar day, in `zone`, on which the event starts."""
    if run_at.tzinfo is None:
        raise ValueError("run_at must be timezone-aware")
    day = run_at.astimezone(zone).date() + timedelta(days=rule.days_after)
    if rule.skip_weekends and day.weekday() >= _SATURDAY:
        day += timedelta(days=7 - day.weekday())
    return day


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """Wall-clock `at` on `day` in `zone` as an aware datetime, applying the gap and repeat rules
    above.

    With `fold=0`, zoneinfo reads a skipped wall time with the offset in force before the change,
    and a repeated one as its first occurrence; a round trip through UTC then turns a skipped time
    into the real instant the clock shows after the change.
    """
    wall = datetime.combine(day, at.replace(fold=0), tzinfo=zone)
    return wall.astimezone(UTC).astimezone(zone)


def event_start(rule: StartRule, run_at: datetime, zone: ZoneInfo) -> datetime:
    """The start of the event a run at `run_at` creates, aware and in the owner's `zone`."""
    return local_instant(start_date(rule, run_at, zone), rule.at, zone)
