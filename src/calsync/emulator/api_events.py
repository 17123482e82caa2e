"""Graph routes for events: CRUD, cancel, responses, lists, calendarView, instances and delta.

Every events path exists in the three forms Graph offers for the default calendar:
`/users/{u}/events`, `/users/{u}/calendar/events` and `/users/{u}/calendars/{calendarId}/events`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from calsync.emulator.calendar import MailboxCalendar
from calsync.emulator.delta import begin_next_round, next_page, start_round
from calsync.emulator.errors import invalid_request, item_not_found, unsupported_query
from calsync.emulator.graph_http import (
    absolute_link,
    emulator_of,
    graph_context,
    graph_json,
    json_body,
    preferences,
    render_options,
)
from calsync.emulator.ids import decode_id, encode_id
from calsync.emulator.instances import CalendarEntry, calendar_view, series_entries
from calsync.emulator.odata import ListQuery, parse_list_query, parse_select
from calsync.emulator.prefer import Preferences
from calsync.emulator.render import RenderOptions, render_event
from calsync.emulator.store import Mailbox
from calsync.emulator.window import parse_window

_DELTA_TOKENS = ("$skiptoken", "$deltatoken")
_EVENT_TYPE = "#microsoft.graph.event"


def _calendar(request: Request) -> MailboxCalendar:
    return emulator_of(request).calendar


def _mailbox(request: Request) -> Mailbox:
    mailbox = _calendar(request).mailbox(request.path_params["user"])
    calendar_id = request.path_params.get("calendar_id")
    if calendar_id is not None and calendar_id != mailbox.calendar_id:
        raise item_not_found("The specified calendar was not found.")
    return mailbox


def _event_context(request: Request, mailbox: Mailbox) -> str:
    return graph_context(request, f"users('{mailbox.address}')/events")


def _one(
    request: Request, entry: CalendarEntry, prefs: Preferences, status: int = 200
) -> JSONResponse:
    params = request.query_params
    for name in params:
        if name.startswith("$") and name != "$select":
            raise unsupported_query(f"The query option '{name}' is not supported here.")
    select = parse_select(params["$select"]) if "$select" in params else None
    mailbox = _mailbox(request)
    body = {"@odata.context": _event_context(request, mailbox) + "/$entity"}
    body.update(render_event(entry, render_options(prefs, select)))
    return graph_json(body, status, prefs)


def _page(
    request: Request,
    entries: list[CalendarEntry],
    query: ListQuery,
    prefs: Preferences,
    context: str,
) -> JSONResponse:
    """Filter, order and page entries; the nextLink carries $skip and the other options."""
    config = emulator_of(request).config
    if query.filter is not None or query.orderby:
        # $filter and $orderby see every event as rendered in UTC, as Graph evaluates them.
        utc = RenderOptions()
        rows = [(entry, render_event(entry, utc)) for entry in entries]
        if query.filter is not None:
            predicate = query.filter
            rows = [row for row in rows if predicate(row[1])]
        if query.orderby:
            order = {id(r[1]): r for r in rows}
            rows = [order[id(j)] for j in query.sort([r[1] for r in rows])]
        entries = [entry for entry, _ in rows]
    size = min(query.top or prefs.max_page_size or config.default_page_size, config.max_page_size)
    chosen = entries[query.skip : query.skip + size]
    options = render_options(prefs, query.select)
    body: dict[str, Any] = {
        "@odata.context": context,
        "value": [render_event(entry, options) for entry in chosen],
    }
    if query.skip + size < len(entries):
        params = dict(request.query_params)
        params["$skip"] = str(query.skip + size)
        body["@odata.nextLink"] = absolute_link(request, params)
    return graph_json(body, 200, prefs)


# -- single events ----------------------------------------------------------------------


async def create_event(request: Request) -> JSONResponse:
    prefs = preferences(request)
    mailbox = _mailbox(request)
    result = _calendar(request).create(mailbox, await json_body(request))
    return _one(request, result.entry, prefs, status=201)


async def get_event(request: Request) -> JSONResponse:
    prefs = preferences(request)
    mailbox = _mailbox(request)
    entry = _calendar(request).entry(mailbox, request.path_params["event_id"])
    return _one(request, entry, prefs)


async def update_event(request: Request) -> JSONResponse:
    prefs = preferences(request)
    mailbox = _mailbox(request)
    body = await json_body(request)
    entry = _calendar(request).update(
        mailbox, request.path_params["event_id"], body, request.headers.get("if-match")
    )
    return _one(request, entry, prefs)


async def delete_event(request: Request) -> Response:
    mailbox = _mailbox(request)
    _calendar(request).delete(
        mailbox, request.path_params["event_id"], request.headers.get("if-match")
    )
    return Response(status_code=204)


def _comment(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    value = body.get("comment", body.get("Comment", ""))
    return value if isinstance(value, str) else ""


async def cancel_event(request: Request) -> Response:
    """202 with an empty body (GRAPH.md §2.5)."""
    mailbox = _mailbox(request)
    body = await json_body(request, required=False)
    _calendar(request).cancel(mailbox, request.path_params["event_id"], _comment(body))
    return Response(status_code=202)


def _response_body(body: Any) -> tuple[str, bool]:
    """`{"comment": string, "sendResponse": boolean}` (both optional), checked field by field
    (a `proposedNewTime` is refused: proposing new times is not emulated)."""
    if not isinstance(body, dict):
        raise invalid_request("body: must be a JSON object with comment and sendResponse.")
    for name, value in body.items():
        if name.lower() == "comment":
            if value is not None and not isinstance(value, str):
                raise invalid_request("comment: must be a string.")
        elif name.lower() == "sendresponse":
            if value is not None and not isinstance(value, bool):
                raise invalid_request("sendResponse: must be true or false.")
        elif name.lower() == "proposednewtime":
            raise invalid_request("proposedNewTime: proposing a new time is not supported here.")
        else:
            raise invalid_request(f"{name}: not a parameter of this action.")
    send = next((v for k, v in body.items() if k.lower() == "sendresponse"), None)
    return _comment(body), send is not False


def _respond(action: str) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        mailbox = _mailbox(request)
        comment, send = _response_body(await json_body(request, required=False))
        _calendar(request).respond(mailbox, request.path_params["event_id"], action, comment, send)
        return Response(status_code=202)

    return handler


# -- lists ------------------------------------------------------------------------------


async def list_events(request: Request) -> JSONResponse:
    """Single instances and series masters only, 10 per page by default (GRAPH.md §2.2)."""
    prefs = preferences(request)
    mailbox = _mailbox(request)
    query = parse_list_query(request.query_params)
    calendar = _calendar(request)
    entries = emulator_of(request).listings.entries(
        ("events", mailbox.id), lambda: calendar.top_level(mailbox)
    )
    return _page(request, entries, query, prefs, _event_context(request, mailbox))


def _view_query(request: Request) -> ListQuery:
    """calendarView refuses the created/modified timestamps in $select (GRAPH.md §1.1)."""
    query = parse_list_query(request.query_params)
    for name in query.select or ():
        if name in ("createdDateTime", "lastModifiedDateTime"):
            raise unsupported_query(
                f"$select of '{name}' is not supported on calendarView; query without $select "
                "to get it."
            )
    return query


async def calendar_view_list(request: Request) -> JSONResponse:
    prefs = preferences(request)
    mailbox = _mailbox(request)
    query = _view_query(request)
    start, end = parse_window(request.query_params)
    emulator = emulator_of(request)
    entries = emulator.listings.entries(
        ("calendarView", mailbox.id, start, end),
        lambda: calendar_view(emulator.store, mailbox.id, start, end),
    )
    context = graph_context(request, f"users('{mailbox.address}')/calendarView")
    return _page(request, entries, query, prefs, context)


async def list_instances(request: Request) -> JSONResponse:
    prefs = preferences(request)
    mailbox = _mailbox(request)
    query = parse_list_query(request.query_params)
    start, end = parse_window(request.query_params)
    master = _calendar(request).series_master(mailbox, request.path_params["event_id"])
    emulator = emulator_of(request)
    entries = emulator.listings.entries(
        ("instances", master.key, start, end),
        lambda: series_entries(emulator.store, master, start, end, include_exceptions=True),
    )
    context = (
        _event_context(request, mailbox) + "('" + request.path_params["event_id"] + "')/instances"
    )
    return _page(request, entries, query, prefs, context)


async def calendar_view_delta(request: Request) -> JSONResponse:
    """One page of a delta round; see calsync.emulator.delta for the protocol."""
    emulator = emulator_of(request)
    prefs = preferences(request)
    mailbox = _mailbox(request)
    params = request.query_params
    for name in params:
        if name.startswith("$") and name not in _DELTA_TOKENS:
            raise unsupported_query(f"The query option '{name}' is not supported with delta.")
    tokens = emulator.delta_tokens
    if "$skiptoken" in params:
        state = tokens.decode(params["$skiptoken"], mailbox.id)
    elif "$deltatoken" in params:
        state = begin_next_round(emulator.store, tokens.decode(params["$deltatoken"], mailbox.id))
    else:
        start, end = parse_window(params)
        state = start_round(emulator.store, mailbox.id, start, end)
    quirks = emulator.delta_quirks.for_mailbox(mailbox.id)
    page = next_page(
        emulator.store,
        state,
        prefs.max_page_size or emulator.config.delta_default_page_size,
        empty_first_page=quirks.empty_first_page,
        duplicate_items=quirks.duplicate_items,
        cache=emulator.delta_rounds,
    )
    options = render_options(prefs)
    value: list[dict[str, Any]] = []
    for item in page.items:
        if item.entry is None:
            ref_id = encode_id(decode_id(item.id), prefs.immutable_ids)
            value.append(
                {"@odata.type": _EVENT_TYPE, "id": ref_id, "@removed": {"reason": "deleted"}}
            )
        else:
            value.append({"@odata.type": _EVENT_TYPE, **render_event(item.entry, options)})
    token = tokens.encode(page.next_state)
    link_name = "@odata.deltaLink" if page.finished else "@odata.nextLink"
    token_name = "$deltatoken" if page.finished else "$skiptoken"
    body = {
        "@odata.context": graph_context(request, "Collection(event)"),
        link_name: absolute_link(request, {token_name: token}),
        "value": value,
    }
    return graph_json(body, 200, prefs, also_applied=["odata.track-changes"])


def _calendar_json(request: Request, mailbox: Mailbox) -> dict[str, Any]:
    return {
        "id": mailbox.calendar_id,
        "name": "Calendar",
        "color": "auto",
        "isDefaultCalendar": True,
        "canEdit": True,
        "canShare": True,
        "canViewPrivateItems": True,
        "owner": {"name": mailbox.display_name, "address": mailbox.address},
        "allowedOnlineMeetingProviders": ["teamsForBusiness"] if mailbox.can_host_teams else [],
        "defaultOnlineMeetingProvider": "teamsForBusiness" if mailbox.can_host_teams else "none",
    }


async def get_calendar(request: Request) -> JSONResponse:
    mailbox = _mailbox(request)
    body = {
        "@odata.context": graph_context(request, f"users('{mailbox.address}')/calendar/$entity")
    }
    body.update(_calendar_json(request, mailbox))
    return graph_json(body)


async def list_calendars(request: Request) -> JSONResponse:
    mailbox = _mailbox(request)
    return graph_json(
        {
            "@odata.context": graph_context(request, f"users('{mailbox.address}')/calendars"),
            "value": [_calendar_json(request, mailbox)],
        }
    )


async def get_user(request: Request) -> JSONResponse:
    mailbox = _mailbox(request)
    return graph_json(
        {
            "@odata.context": graph_context(request, "users/$entity"),
            "id": mailbox.id,
            "displayName": mailbox.display_name,
            "mail": mailbox.address,
            "userPrincipalName": mailbox.address,
        }
    )


def event_routes() -> list[Route]:
    user = "/v1.0/users/{user}"
    collections = [
        f"{user}/events",
        f"{user}/calendar/events",
        f"{user}/calendars/{{calendar_id}}/events",
    ]
    views = [
        f"{user}/calendarView",
        f"{user}/calendar/calendarView",
        f"{user}/calendars/{{calendar_id}}/calendarView",
    ]
    routes = [
        Route(user, get_user, methods=["GET"]),
        Route(f"{user}/calendar", get_calendar, methods=["GET"]),
        Route(f"{user}/calendars", list_calendars, methods=["GET"]),
        Route(f"{user}/calendars/{{calendar_id}}", get_calendar, methods=["GET"]),
    ]
    for view in views:
        routes.append(Route(view, calendar_view_list, methods=["GET"]))
        routes.append(Route(view + "/delta", calendar_view_delta, methods=["GET"]))
        # The SDKs call the function with OData's parentheses: calendarView/delta().
        routes.append(Route(view + "/delta()", calendar_view_delta, methods=["GET"]))
    for base in collections:
        one = base + "/{event_id}"
        routes += [
            Route(base, list_events, methods=["GET"]),
            Route(base, create_event, methods=["POST"]),
            Route(one, get_event, methods=["GET"]),
            Route(one, update_event, methods=["PATCH"]),
            Route(one, delete_event, methods=["DELETE"]),
            Route(one + "/cancel", cancel_event, methods=["POST"]),
            Route(one + "/instances", list_instances, methods=["GET"]),
            Route(one + "/accept", _respond("accept"), methods=["POST"]),
            Route(one + "/tentativelyAccept", _respond("tentativelyAccept"), methods=["POST"]),
            Route(one + "/decline", _respond("decline"), methods=["POST"]),
        ]
    return routes
