"""`POST /v1.0/$batch`: JSON batching as Graph does it (GRAPH.md §7).

Each item is run as a real request through the whole emulator app, middleware included, so it
gets the same authentication, faults and throttling as if the client had sent it alone: that is
how a 429 item ends up inside a 200 batch. Items without `dependsOn` run up to four at a time (as
Outlook does); an item waits for the items it depends on and gets 424 if one of them failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Scope

from calsync.emulator.errors import GraphApiError, error_body
from calsync.emulator.traffic import BATCH_ITEM_SCOPE_KEY, GRAPH_ROOT

MAX_BATCH_ITEMS = 20
PARALLEL_ITEMS = 4
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
_INHERITED_HEADERS = ("authorization",)


def _bad_batch(message: str) -> GraphApiError:
    return GraphApiError(400, "BadRequest", message)


@dataclass(frozen=True)
class BatchItem:
    """One request of a batch, as validated from the client's JSON."""

    id: str
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes | None
    depends_on: tuple[str, ...] = ()


@dataclass
class ItemResponse:
    """What the app answered for one item, gathered from its ASGI messages."""

    status: int = 500
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)

    def to_json(self, item_id: str) -> dict[str, Any]:
        headers = {
            "-".join(part.capitalize() for part in key.decode("latin-1").split("-")): value.decode(
                "latin-1"
            )
            for key, value in self.headers
            if key.lower() != b"content-length"
        }
        result: dict[str, Any] = {"id": item_id, "status": self.status, "headers": headers}
        if self.body:
            content_type = headers.get("Content-Type", "")
            text = self.body.decode("utf-8", errors="replace")
            result["body"] = text
            # A handler that mislabels its body gets its text passed on as it is.
            if "json" in content_type:
                with contextlib.suppress(json.JSONDecodeError):
                    result["body"] = json.loads(text)
        return result


def parse_batch(payload: object) -> list[BatchItem]:
    """Validate a `$batch` body; any problem refuses the whole batch with 400, naming the field."""
    if not isinstance(payload, dict) or not isinstance(payload.get("requests"), list):
        raise _bad_batch("requests: the body must be an object with a 'requests' array")
    raw_items: list[object] = payload["requests"]
    if not 1 <= len(raw_items) <= MAX_BATCH_ITEMS:
        raise _bad_batch(
            f"requests: a batch holds 1 to {MAX_BATCH_ITEMS} requests, got {len(raw_items)}"
        )
    items = [_parse_item(index, raw) for index, raw in enumerate(raw_items)]
    seen: dict[str, str] = {}
    for item in items:
        folded = item.id.casefold()
        if folded in seen:
            raise _bad_batch(
                f"requests[].id: ids must be unique (case-insensitive); {item.id!r} repeats "
                f"{seen[folded]!r}"
            )
        seen[folded] = item.id
    for item in items:
        for dependency in item.depends_on:
            if dependency.casefold() not in seen:
                raise _bad_batch(
                    f"requests[id={item.id}].dependsOn: {dependency!r} is not the id of a request "
                    "in this batch"
                )
            if dependency.casefold() == item.id.casefold():
                raise _bad_batch(
                    f"requests[id={item.id}].dependsOn: a request cannot depend on itself"
                )
    _refuse_cycles(items)
    return items


def _parse_item(index: int, raw: object) -> BatchItem:
    where = f"requests[{index}]"
    if not isinstance(raw, dict):
        raise _bad_batch(f"{where}: must be an object")
    item_id = raw.get("id")
    if not isinstance(item_id, str) or not item_id.strip():
        raise _bad_batch(f"{where}.id: must be a non-empty string")
    method = raw.get("method")
    if not isinstance(method, str) or method.upper() not in _METHODS:
        raise _bad_batch(f"{where}.method: must be one of {sorted(_METHODS)}, got {method!r}")
    url = raw.get("url")
    if not isinstance(url, str) or not url.strip():
        raise _bad_batch(f"{where}.url: must be a non-empty string")
    parts = urlsplit(url.strip())
    if parts.scheme or parts.netloc:
        raise _bad_batch(f"{where}.url: must be relative to the version root, like '/users/...'")
    path = "/" + parts.path.lstrip("/")
    if path.rstrip("/").casefold() == "/$batch":
        raise _bad_batch(f"{where}.url: a batch cannot contain another batch")
    headers = raw.get("headers") or {}
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise _bad_batch(f"{where}.headers: must be an object of string values")
    body = _encode_body(where, raw, headers)
    depends_on = raw.get("dependsOn") or []
    if not isinstance(depends_on, list) or not all(isinstance(d, str) for d in depends_on):
        raise _bad_batch(f"{where}.dependsOn: must be an array of request ids")
    return BatchItem(
        id=item_id,
        method=method.upper(),
        path=path,
        query=parts.query,
        headers=dict(headers),
        body=body,
        depends_on=tuple(depends_on),
    )


def _encode_body(where: str, raw: Mapping[str, object], headers: Mapping[str, str]) -> bytes | None:
    if raw.get("body") is None:
        return None
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
    if content_type is None:
        raise _bad_batch(f"{where}.headers: a request with a body needs a Content-Type header")
    body = raw["body"]
    if isinstance(body, str) and "json" not in content_type.lower():
        return body.encode("utf-8")
    return json.dumps(body).encode("utf-8")


def _refuse_cycles(items: list[BatchItem]) -> None:
    by_id = {item.id.casefold(): item for item in items}
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(key: str) -> None:
        if key in done:
            return
        if key in visiting:
            raise _bad_batch(f"requests[id={by_id[key].id}].dependsOn: dependencies form a cycle")
        visiting.add(key)
        for dependency in by_id[key].depends_on:
            visit(dependency.casefold())
        visiting.discard(key)
        done.add(key)

    for key in by_id:
        visit(key)


class BatchRunner:
    """Runs the items of one batch through `app`, honouring `dependsOn` and the parallelism cap."""

    def __init__(self, app: ASGIApp, outer: Scope) -> None:
        self.app = app
        self.outer = outer
        self.slots = asyncio.Semaphore(PARALLEL_ITEMS)

    async def run(self, items: list[BatchItem]) -> list[dict[str, Any]]:
        results: dict[str, asyncio.Future[ItemResponse]] = {
            item.id.casefold(): asyncio.get_running_loop().create_future() for item in items
        }

        async def run_one(item: BatchItem) -> None:
            outcome = await self._after_dependencies(item, results)
            results[item.id.casefold()].set_result(outcome)

        await asyncio.gather(*(run_one(item) for item in items))
        return [results[item.id.casefold()].result().to_json(item.id) for item in items]

    async def _after_dependencies(
        self, item: BatchItem, results: Mapping[str, asyncio.Future[ItemResponse]]
    ) -> ItemResponse:
        for dependency in item.depends_on:
            dependency_outcome = await results[dependency.casefold()]
            if dependency_outcome.status >= 400:
                return self._failed_dependency(dependency)
        async with self.slots:
            return await self._send_through_app(item)

    def _failed_dependency(self, dependency: str) -> ItemResponse:
        body = error_body(
            "FailedDependency",
            f"The request depends on request {dependency!r}, which failed.",
            None,
        )
        return ItemResponse(
            status=424,
            headers=[(b"content-type", b"application/json")],
            body=bytearray(json.dumps(body).encode("utf-8")),
        )

    async def _send_through_app(self, item: BatchItem) -> ItemResponse:
        headers = [
            (key, value)
            for key, value in self.outer.get("headers", [])
            if key.decode("latin-1").lower() in _INHERITED_HEADERS
        ]
        headers += [
            (key.lower().encode("latin-1"), value.encode("latin-1"))
            for key, value in item.headers.items()
        ]
        if item.body is not None:
            headers.append((b"content-length", str(len(item.body)).encode("latin-1")))
        path = GRAPH_ROOT + item.path
        scope: Scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": item.method,
            "scheme": self.outer.get("scheme", "http"),
            "server": self.outer.get("server"),
            "client": self.outer.get("client"),
            "root_path": "",
            "path": path,
            "raw_path": path.encode("utf-8"),
            "query_string": item.query.encode("latin-1"),
            "headers": headers,
            "state": dict(self.outer.get("state", {})),
            BATCH_ITEM_SCOPE_KEY: item.id,
        }
        body_sent = False

        async def receive() -> Message:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": item.body or b"", "more_body": False}
            await asyncio.Event().wait()  # an item's "connection" never drops by itself
            return {"type": "http.disconnect"}

        response = ItemResponse()
        started = False

        async def send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                response.status = int(message["status"])
                response.headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                response.body.extend(message.get("body", b""))

        try:
            await self.app(scope, receive, send)
        except Exception:
            if not started:
                # The app answers unexpected errors with its own 500 before re-raising; if it
                # could not even do that, answer for it.
                return ItemResponse(
                    status=500,
                    headers=[(b"content-type", b"application/json")],
                    body=bytearray(
                        json.dumps(
                            error_body("generalException", "The item failed unexpectedly.", None)
                        ).encode("utf-8")
                    ),
                )
        return response


async def batch_endpoint(request: Request) -> JSONResponse:
    """`POST /v1.0/$batch` → 200 with one response per item, or 400 when the batch is malformed."""
    try:
        payload = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _bad_batch(f"body: not valid JSON ({exc})") from exc
    items = parse_batch(payload)
    runner = BatchRunner(request.scope["app"], request.scope)
    return JSONResponse({"responses": await runner.run(items)})
