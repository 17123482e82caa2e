"""calendarView delta rounds: a full read of a window the first time, only the changes afterwards.

A round is a chain of GETs: the first carries the window (or is a saved deltaLink), each page ends
with either ``@odata.nextLink`` (keep going) or ``@odata.deltaLink`` (done; save it for next time).
``DeltaRound`` is an async iterator of those pages, fetching the next one only when the caller asks
for it, so memory stays bounded by one page. What the protocol allows and this class tolerates
(GRAPH.md §3.2):

- empty pages that still carry a nextLink: yielded as empty pages, the round continues;
- the same event twice in a round: both copies are yielded in order; the caller merges by ``id``,
  later wins;
- ``@removed`` entries, which may also mean "left the window": exposed as ``DeltaPage.removed_ids``;
- an access token expiring mid-round: the transport refreshes it and re-GETs the same link;
- a dead delta link (410 ``SyncStateNotFound``): ``ResyncRequired`` is raised and the caller starts
  a new initial round with a window.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from calsync.graph.errors import GraphError, InvalidArgument, InvalidResponse
from calsync.graph.models import DeltaPage
from calsync.graph.paging import page_size_preference, parse_page
from calsync.graph.transport import GraphTransport


class DeltaRoundIncomplete(GraphError):
    """The delta link was asked for before the round reached its last page."""

    code = "graph.delta_round_incomplete"


def window_params(start: datetime, end: datetime) -> dict[str, str]:
    """``startDateTime``/``endDateTime`` with explicit offsets, which Graph honours (no offset would
    mean UTC)."""
    for name, value in (("start", start), ("end", end)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidArgument(name, "the delta window needs timezone-aware datetimes")
    if end <= start:
        raise InvalidArgument("end", "the delta window must end after it starts")
    return {"startDateTime": start.isoformat(), "endDateTime": end.isoformat()}


class DeltaRound:
    """One round of calendarView delta for one mailbox. Iterate it to the end, then read
    ``delta_link``."""

    def __init__(
        self,
        transport: GraphTransport,
        mailbox: str,
        first_link: str,
        *,
        params: dict[str, str] | None = None,
        page_size: int | None = None,
    ) -> None:
        self._transport = transport
        self.mailbox = mailbox
        self._first_link = first_link
        self._params = params
        self._prefer = page_size_preference(page_size)
        self._delta_link: str | None = None
        self._started = False
        self.pages_read = 0
        self.items_read = 0

    @property
    def delta_link(self) -> str:
        """The link that starts the next round; only known after the last page was read."""
        if self._delta_link is None:
            raise DeltaRoundIncomplete(
                f"the delta round for {self.mailbox} has not reached its last page yet"
            )
        return self._delta_link

    @property
    def finished(self) -> bool:
        return self._delta_link is not None

    def __aiter__(self) -> AsyncIterator[DeltaPage]:
        if self._started:
            raise InvalidArgument("round", "a delta round can be iterated only once")
        self._started = True
        return self._pages()

    async def _pages(self) -> AsyncIterator[DeltaPage]:
        link: str | None = self._first_link
        params = self._params
        while link is not None:
            response = await self._transport.send(
                "GET", link, mailbox=self.mailbox, params=params, prefer=self._prefer
            )
            page = parse_page(response, DeltaPage)
            params = None
            self.pages_read += 1
            self.items_read += len(page.value)
            if page.next_link is None and page.delta_link is None:
                raise InvalidResponse(
                    f"a delta page for {self.mailbox} carried neither @odata.nextLink nor "
                    "@odata.deltaLink; the round cannot continue",
                    status=response.status_code,
                )
            if page.next_link is None:
                self._delta_link = page.delta_link
            yield page
            link = page.next_link
