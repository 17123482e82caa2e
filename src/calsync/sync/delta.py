"""One calendarView delta round, reduced to per-id final states (GRAPH.md §3.2, §12 fact 3).

A round may list an event several times and in any order; the last copy wins. `@removed` does not
prove a deletion: events added, changed or deleted *outside* the window arrive the same way, so a
removal is only taken seriously for an event we track whose last known times lie in the window, and
even then it means "deleted or moved out of the window" — the runner confirms it with a GET (404 → a
`GraphDeleted` tombstone; found → an ordinary update). A removal of anything else is ignored, never
a deletion. Cancelled events (`isCancelled`) count as removals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from calsync.sync.errors import InvalidEventData
from calsync.sync.fields import AllDaySpan, EventTiming
from calsync.sync.state import GraphEvent

# All-day events are floating dates; the zones of the world span UTC-12 to UTC+14.
_ALL_DAY_SLACK_BEFORE = timedelta(hours=14)
_ALL_DAY_SLACK_AFTER = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class DeltaRemoval:
    """A `@removed` entry of a delta round."""

    graph_id: str


DeltaItem = GraphEvent | DeltaRemoval


@dataclass(frozen=True, slots=True)
class SyncWindow:
    """The calendarView window of a mailbox's delta cursor: `start` inclusive, `end` exclusive."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value: datetime = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise InvalidEventData(
                    f"the window {name} needs a time zone", field=f"window.{name}"
                )
        if self.end <= self.start:
            raise InvalidEventData("the window must end after it starts", field="window.end")

    def may_contain(self, timing: EventTiming) -> bool:
        """Whether an event with these times can lie in the window (Graph includes overlaps).

        All-day dates are widened by the span of the world's offsets: when in doubt the event counts
        as inside, because a removal inside the window is confirmed by a GET before anything is
        deleted.
        """
        if isinstance(timing, AllDaySpan):
            start = datetime.combine(timing.first_day, time(), UTC) - _ALL_DAY_SLACK_BEFORE
            end = datetime.combine(timing.end_day, time(), UTC) + _ALL_DAY_SLACK_AFTER
        else:
            start, end = timing.start, timing.end
        if start == end:
            return self.start <= start < self.end
        return start < self.end and end > self.start


@dataclass(frozen=True, slots=True)
class DeltaRound:
    """A reduced round: final changed events, tracked removals to confirm, and ignored removals."""

    changed: tuple[GraphEvent, ...]
    removed: tuple[str, ...]
    """Ids we track, last seen inside the window: deleted or moved out; confirm with a GET."""
    ignored_removals: tuple[str, ...]
    """Ids never tracked, or last seen outside the window: not deletions."""


def reduce_delta_round(
    items: Iterable[DeltaItem],
    tracked: Mapping[str, EventTiming],
    window: SyncWindow,
) -> DeltaRound:
    """Collapse one round's items to the final state of each id (last wins), filtering removals.

    `tracked` maps each linked Graph id of the mailbox to its last known times (the link's base).
    The order of the result follows each id's last appearance in the round.
    """
    final: dict[str, DeltaItem] = {}
    for item in items:
        graph_id = item.graph_id
        final.pop(graph_id, None)
        final[graph_id] = item
    changed: list[GraphEvent] = []
    removed: list[str] = []
    ignored: list[str] = []
    for graph_id, item in final.items():
        if isinstance(item, GraphEvent) and not item.is_cancelled:
            changed.append(item)
            continue
        timing = tracked.get(graph_id)
        if timing is not None and window.may_contain(timing):
            removed.append(graph_id)
        else:
            ignored.append(graph_id)
    return DeltaRound(tuple(changed), tuple(removed), tuple(ignored))


def childless_masters_to_confirm(
    round_: DeltaRound,
    masters: Iterable[str],
    occurrence_masters: Iterable[str | None],
) -> tuple[str, ...]:
    """Tracked series masters the round may have deleted without naming them: GET each one.

    Delta never lists a series master; a deleted series shows only as `@removed` of its
    occurrences. Once every occurrence the CRM tracked is gone (cancelled one by one), those
    removals name ids nobody tracks and are ignored, so the CRM would keep the series for good.
    So when a round ignores a removal, the masters with no tracked occurrence left are confirmed
    instead. A quiet round ignores nothing and costs nothing more.

    `masters`: the tracked masters' Graph ids; `occurrence_masters`: the series master id of every
    tracked occurrence and exception (None for other events).
    """
    if not round_.ignored_removals:
        return ()
    parents = {master for master in occurrence_masters if master}
    return tuple(master for master in masters if master not in parents)
