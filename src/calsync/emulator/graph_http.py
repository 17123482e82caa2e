"""What every Graph route handler shares: reading bodies, Prefer, paging links, JSON out."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse

from calsync.emulator.emulator import Emulator
from calsync.emulator.errors import GraphApiError
from calsync.emulator.prefer import Preferences, parse_preferences
from calsync.emulator.render import RenderOptions


def emulator_of(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator


def preferences(request: Request) -> Preferences:
    return parse_preferences(request.headers.getlist("prefer"))


def render_options(prefs: Preferences, select: tuple[str, ...] | None = None) -> RenderOptions:
    return RenderOptions(
        immutable_ids=prefs.immutable_ids,
        zone_name=prefs.zone_name,
        body_type=prefs.body_type,
        select=select,
    )


async def json_body(request: Request, required: bool = True) -> Any:
    """The JSON body; Graph wants `Content-Type: application/json` on writes (GRAPH.md §2.1)."""
    raw = await request.body()
    if not raw.strip():
        if required:
            raise GraphApiError(400, "BadRequest", "Empty Payload, JSON content expected.")
        return {}
    content_type = request.headers.get("content-type", "")
    if "json" not in content_type.lower():
        raise GraphApiError(
            415,
            "BadRequest",
            "A supported MIME type could not be found that matches the content "
            "type of the response; send Content-Type: application/json.",
        )
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise GraphApiError(400, "BadRequest", f"Invalid JSON in the request body: {exc}.") from exc


def graph_json(
    payload: Any,
    status: int = 200,
    prefs: Preferences | None = None,
    also_applied: Sequence[str] = (),
) -> JSONResponse:
    """A Graph JSON response; honoured preferences go back in `Preference-Applied`."""
    applied = [*(prefs.applied() if prefs else []), *also_applied]
    headers = {"Preference-Applied": ", ".join(applied)} if applied else {}
    response = JSONResponse(payload, status_code=status, headers=headers)
    response.headers["content-type"] = "application/json; odata.metadata=minimal; charset=utf-8"
    return response


def absolute_link(request: Request, params: Mapping[str, str]) -> str:
    """A nextLink/deltaLink: public base URL + this path + the given query (GRAPH.md §2.6)."""
    base = emulator_of(request).config.public_base_url.rstrip("/")
    query = urlencode(dict(params), quote_via=quote, safe="$'/:,")
    return f"{base}{request.url.path}?{query}"


def graph_context(request: Request, tail: str) -> str:
    return f"{emulator_of(request).config.graph_url}/$metadata#{tail}"
