"""``GraphClient``: the one object the rest of CalSync uses to read and write Microsoft 365
calendars.

Each method names the mailbox it works on (an address or a user id, addressed as
``/users/{mailbox}``) and returns typed models from ``calsync.graph.models``; failures raise
``calsync.graph.errors.GraphError`` subclasses. Reads that can be long (list, calendarView,
instances) are async iterators that fetch a page only when the previous one was consumed. See
docs/graph-client.md for the whole surface and how to connect a tenant.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Self
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from calsync.graph.auth import MsalTokenProvider, TokenProvider
from calsync.graph.batch import MAX_BATCH_ITEMS, BatchItemResult, send_batch
from calsync.graph.delta import DeltaRound, window_params
from calsync.graph.drafts import EventDraft
from calsync.graph.errors import (
    GraphError,
    InvalidArgument,
    InvalidResponse,
    NotFound,
    PreconditionFailed,
)
from calsync.graph.models import Calendar, Event, EventPage, Subscription, SubscriptionPage
from calsync.graph.paging import iterate_pages
from calsync.graph.settings import GraphSettings
from calsync.graph.transport import GraphTransport
from calsync.graph.writes import (
    CancelEvent,
    CreateEvent,
    DeleteEvent,
    RequestSpec,
    UpdateEvent,
    WriteOperation,
    event_path,
    mailbox_path,
)

SUBSCRIPTION_CHANGE_TYPES = "created,updated,deleted"


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """The result of one write in a batch: the event Graph returned (create/update), or the
    error."""

    operation: WriteOperation
    status: int
    event: Event | None
    error: GraphError | None
    attempts: int

    @property
    def ok(self) -> bool:
        return self.error is None


class GraphClient:
    """Async Microsoft Graph client for calendars; use as ``async with GraphClient(settings) as
    graph:``."""

    def __init__(
        self,
        settings: GraphSettings,
        *,
        tokens: TokenProvider | None = None,
        transport: GraphTransport | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.settings = settings
        self._own_tokens: MsalTokenProvider | None = None
        if transport is None:
            if tokens is None:
                tokens = self._own_tokens = MsalTokenProvider(settings)
            transport = GraphTransport(settings, tokens, http=http)
        self.transport = transport

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.transport.aclose()
        if self._own_tokens is not None:
            self._own_tokens.close()

    # ----- reads ---------------------------------------------------------------------------------

    async def get_calendar(self, mailbox: str) -> Calendar:
        """The mailbox's default calendar.

        The cheapest call that proves the credentials, the admin consent and the
        ApplicationAccessPolicy all let CalSync in; it also says whether Teams meetings work.
        """
        response = await self.transport.send(
            "GET", f"{mailbox_path(mailbox)}/calendar", mailbox=mailbox, retry_precondition=True
        )
        try:
            return Calendar.model_validate_json(response.content)
        except ValueError as exc:
            raise InvalidResponse(
                "Graph did not return a calendar", status=response.status_code
            ) from exc

    async def get_event(self, mailbox: str, event_id: str) -> Event:
        """One event by id (occurrences, exceptions and series masters alike)."""
        response = await self.transport.send(
            "GET", event_path(mailbox, event_id), mailbox=mailbox, retry_precondition=True
        )
        return _event(response)

    async def get_series_master(self, mailbox: str, series_master_id: str) -> Event:
        """The series master an occurrence points to (delta and calendarView never return masters).

        Raises ``NotFound`` when the id names an event that is not a series master.
        """
        event = await self.get_event(mailbox, series_master_id)
        if event.type is not None and event.type != "seriesMaster":
            raise NotFound(f"event {series_master_id} is a {event.type}, not a series master")
        return event

    async def get_series_masters(
        self, mailbox: str, series_master_ids: Sequence[str]
    ) -> list[Event | GraphError]:
        """Several series masters in ``$batch`` requests of up to 20 GETs each, one batch at a time.

        An initial import needs the master of every series its occurrences belong to; one GET
        each cost a round trip and most of a millisecond of the importing process's CPU per series.
        Outlook runs a batch's items four at a time, which is already the mailbox's concurrency
        limit (GRAPH.md §7), so batches sent together would only get their items throttled.

        One result per id, in order: the master, or the error ``get_series_master`` would have
        raised for it (``NotFound`` for a missing id or an event that is not a series master; a
        batch that failed as a whole gives its error to each of its ids). A 412, which Exchange
        sometimes answers a plain GET with (GRAPH.md §6), is retried on its own as
        ``get_series_master`` retries it.
        """
        results: list[Event | GraphError] = []
        for start in range(0, len(series_master_ids), MAX_BATCH_ITEMS):
            group = series_master_ids[start : start + MAX_BATCH_ITEMS]
            results.extend(await self._series_master_batch(mailbox, group))
        for position, result in enumerate(results):
            if isinstance(result, PreconditionFailed):
                try:
                    results[position] = await self.get_series_master(
                        mailbox, series_master_ids[position]
                    )
                except GraphError as error:
                    results[position] = error
        return results

    async def _series_master_batch(
        self, mailbox: str, series_master_ids: Sequence[str]
    ) -> list[Event | GraphError]:
        specs = [RequestSpec("GET", event_path(mailbox, gid)) for gid in series_master_ids]
        try:
            answers = await send_batch(self.transport, specs, mailbox=mailbox)
        except GraphError as error:
            return [error] * len(specs)
        return [
            _series_master_of(spec, answer) for spec, answer in zip(specs, answers, strict=True)
        ]

    async def list_events(self, mailbox: str) -> AsyncIterator[Event]:
        """Single events and series masters of the mailbox, unexpanded (Graph's ``/events``)."""
        async for page in iterate_pages(
            self.transport,
            f"{mailbox_path(mailbox)}/events",
            EventPage,
            mailbox=mailbox,
            page_size=self.settings.page_size,
        ):
            for event in page.value:
                yield event

    async def calendar_view(
        self, mailbox: str, start: datetime, end: datetime
    ) -> AsyncIterator[Event]:
        """Single events, occurrences and exceptions overlapping the window, expanded by Graph."""
        async for page in iterate_pages(
            self.transport,
            f"{mailbox_path(mailbox)}/calendarView",
            EventPage,
            mailbox=mailbox,
            params=window_params(start, end),
            page_size=self.settings.page_size,
        ):
            for event in page.value:
                yield event

    async def instances(
        self, mailbox: str, series_master_id: str, start: datetime, end: datetime
    ) -> AsyncIterator[Event]:
        """Occurrences and exceptions of one series in the window (cancelled occurrences are left
        out)."""
        async for page in iterate_pages(
            self.transport,
            f"{event_path(mailbox, series_master_id)}/instances",
            EventPage,
            mailbox=mailbox,
            params=window_params(start, end),
            page_size=self.settings.page_size,
        ):
            for event in page.value:
                yield event

    def delta_round(
        self,
        mailbox: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        delta_link: str | None = None,
    ) -> DeltaRound:
        """A calendarView delta round: give the window for an initial round, or the saved
        ``delta_link``.

        Iterate the returned round for pages, then store ``round.delta_link``. ``ResyncRequired``
        during iteration means the saved link is dead: start again with a window.
        """
        if delta_link is not None:
            if start is not None or end is not None:
                raise InvalidArgument(
                    "delta_link", "give either a delta link or a window, not both"
                )
            return DeltaRound(
                self.transport, mailbox, delta_link, page_size=self.settings.page_size
            )
        if start is None or end is None:
            raise InvalidArgument(
                "start" if start is None else "end", "an initial delta round needs a window"
            )
        return DeltaRound(
            self.transport,
            mailbox,
            f"{mailbox_path(mailbox)}/calendarView/delta",
            params=window_params(start, end),
            page_size=self.settings.page_size,
        )

    # ----- writes --------------------------------------------------------------------------------

    async def create_event(
        self,
        mailbox: str,
        draft: EventDraft,
        *,
        transaction_id: str,
        calendar_id: str | None = None,
    ) -> Event:
        """Create an event (Graph sends the invitations). Resending with the same ``transaction_id``
        after an ambiguous failure returns the event made the first time instead of a duplicate."""
        return await self._write_event(mailbox, CreateEvent(draft, transaction_id, calendar_id))

    async def update_event(
        self, mailbox: str, event_id: str, changes: EventDraft, *, etag: str
    ) -> Event:
        """Change the given fields only if the event still has ``etag`` (else
        ``PreconditionFailed``)."""
        return await self._write_event(mailbox, UpdateEvent(event_id, changes, etag))

    async def delete_event(self, mailbox: str, event_id: str, *, etag: str) -> None:
        """Delete the event if it still has ``etag``; for an organizer's meeting Graph sends
        cancellations."""
        spec = DeleteEvent(event_id, etag).request(mailbox)
        await self.transport.send(
            spec.method, spec.path, mailbox=mailbox, headers=dict(spec.headers)
        )

    async def cancel_event(
        self, mailbox: str, event_id: str, *, comment: str | None = None
    ) -> None:
        """Cancel a meeting as its organizer, sending ``comment`` to the attendees (202, no
        body)."""
        spec = CancelEvent(event_id, comment).request(mailbox)
        await self.transport.send(spec.method, spec.path, mailbox=mailbox, json=spec.body)

    async def write_batch(
        self, mailbox: str, operations: Sequence[WriteOperation]
    ) -> list[WriteOutcome]:
        """Up to 20 writes to one mailbox in a ``$batch``; one outcome per operation, in the same
        order.

        Items throttled or failed transiently are resent on their own; the other items are never
        resent.
        """
        specs = [operation.request(mailbox) for operation in operations]
        results = await send_batch(self.transport, specs, mailbox=mailbox)
        return [
            _outcome(operation, result)
            for operation, result in zip(operations, results, strict=True)
        ]

    async def _write_event(self, mailbox: str, operation: CreateEvent | UpdateEvent) -> Event:
        spec = operation.request(mailbox)
        response = await self.transport.send(
            spec.method, spec.path, mailbox=mailbox, json=spec.body, headers=dict(spec.headers)
        )
        return _event(response)

    # ----- change notifications ------------------------------------------------------------------

    async def create_subscription(
        self,
        mailbox: str,
        *,
        notification_url: str,
        lifecycle_notification_url: str | None,
        client_state: str,
        expires_at: datetime,
    ) -> Subscription:
        """Subscribe to created/updated/deleted events of a mailbox (at most 4,230 minutes for
        events).

        The lifecycle URL cannot be added later, so give it now. Graph validates both URLs before
        answering.
        """
        if expires_at.tzinfo is None:
            raise InvalidArgument("expires_at", "must be timezone-aware")
        if not client_state or len(client_state) > 128:
            raise InvalidArgument("client_state", "must be 1 to 128 characters")
        body: dict[str, str] = {
            "changeType": SUBSCRIPTION_CHANGE_TYPES,
            "notificationUrl": notification_url,
            "resource": f"{mailbox_path(mailbox)}/events",
            "expirationDateTime": expires_at.isoformat(),
            "clientState": client_state,
        }
        if lifecycle_notification_url:
            body["lifecycleNotificationUrl"] = lifecycle_notification_url
        response = await self.transport.send("POST", "/subscriptions", mailbox=None, json=body)
        return _subscription(response)

    async def renew_subscription(
        self, subscription_id: str, *, expires_at: datetime
    ) -> Subscription:
        """Move a subscription's expiry (also re-authorizes it after
        ``reauthorizationRequired``)."""
        if expires_at.tzinfo is None:
            raise InvalidArgument("expires_at", "must be timezone-aware")
        response = await self.transport.send(
            "PATCH",
            f"/subscriptions/{quote(subscription_id, safe='')}",
            mailbox=None,
            json={"expirationDateTime": expires_at.isoformat()},
        )
        return _subscription(response)

    async def delete_subscription(self, subscription_id: str) -> None:
        await self.transport.send(
            "DELETE", f"/subscriptions/{quote(subscription_id, safe='')}", mailbox=None
        )

    async def list_subscriptions(self) -> AsyncIterator[Subscription]:
        """The app's subscriptions, every page of them (a list follows `@odata.nextLink` like any
        Graph collection)."""
        async for page in iterate_pages(
            self.transport, "/subscriptions", SubscriptionPage, mailbox=None
        ):
            for subscription in page.value:
                yield subscription


def _event(response: httpx.Response) -> Event:
    try:
        return Event.model_validate_json(response.content)
    except ValueError as exc:
        raise InvalidResponse(
            f"{response.request.method} {response.request.url.path} did not return an event",
            status=response.status_code,
        ) from exc


def _series_master_of(spec: RequestSpec, answer: BatchItemResult) -> Event | GraphError:
    """A ``$batch`` answer to a series master's GET, read as ``get_series_master`` reads one."""
    if answer.error is not None:
        return answer.error
    try:
        event = Event.model_validate(answer.body)
    except ValidationError as exc:
        error = InvalidResponse(f"GET {spec.path} in a $batch did not return an event")
        error.__cause__ = exc
        return error
    if event.type is not None and event.type != "seriesMaster":
        return NotFound(f"event {event.id} is a {event.type}, not a series master")
    return event


def _subscription(response: httpx.Response) -> Subscription:
    try:
        return Subscription.model_validate_json(response.content)
    except ValueError as exc:
        raise InvalidResponse(
            "Graph did not return a subscription", status=response.status_code
        ) from exc


def _outcome(operation: WriteOperation, result: BatchItemResult) -> WriteOutcome:
    event: Event | None = None
    if (
        result.ok
        and isinstance(operation, CreateEvent | UpdateEvent)
        and isinstance(result.body, dict)
    ):
        try:
            event = Event.model_validate(result.body)
        except ValueError as exc:
            error = InvalidResponse(f"batch item for {type(operation).__name__} returned no event")
            error.__cause__ = exc
            return WriteOutcome(operation, result.status, None, error, result.attempts)
    return WriteOutcome(operation, result.status, event, result.error, result.attempts)
