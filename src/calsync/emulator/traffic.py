"""What the traffic middlewares (faults, throttling, request counts) need to know about a request.

Graph throttles and our tests count "per mailbox", and a mailbox shows up in a Graph path as the
`{id | userPrincipalName}` segment right after `/v1.0/users/`. This module extracts that segment
and answers Graph-shaped errors from middleware, where no route handler exists to raise into.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from starlette.responses import JSONResponse
from starlette.types import Scope

from calsync.emulator.errors import error_body

GRAPH_ROOT = "/v1.0"
_USERS_PREFIX = GRAPH_ROOT + "/users/"

_RESOLVED_SCOPE_KEY = "calsync.emulator.mailbox"
BATCH_ITEM_SCOPE_KEY = "calsync.emulator.batch_item"
"""Set (to the item id) in the ASGI scope of a request that `$batch` runs for one of its items."""


@dataclass(frozen=True)
class MailboxKey:
    """The mailbox a request addresses: its stable id and its address, as the store knows them.

    When the path names a mailbox the store does not know, both fields hold the lower-cased path
    segment, so such requests are still throttled and counted under one key.
    """

    id: str
    address: str

    def matches(self, name: str) -> bool:
        """Whether `name` (an id or an address, any case) denotes this mailbox."""
        folded = name.strip().casefold()
        return folded in (self.id.casefold(), self.address.casefold())


MailboxResolver = Callable[[str], MailboxKey | None]
"""Turns the `{id | address}` path segment into the mailbox it names, or None when unknown."""


def mailbox_segment(path: str) -> str | None:
    """The `{id | address}` after `/v1.0/users/`, URL-decoded, or None for other paths."""
    if not path.casefold().startswith(_USERS_PREFIX):
        return None
    rest = path[len(_USERS_PREFIX) :]
    segment = rest.split("/", 1)[0]
    return unquote(segment) or None


def mailbox_of_request(scope: Scope, resolve: MailboxResolver) -> MailboxKey | None:
    """The mailbox an HTTP request addresses, resolved through the store when it can be."""
    if _RESOLVED_SCOPE_KEY in scope:  # each middleware asks; the store is asked once
        cached: MailboxKey | None = scope[_RESOLVED_SCOPE_KEY]
        return cached
    segment = mailbox_segment(str(scope.get("path", "")))
    mailbox = None
    if segment is not None:
        folded = segment.casefold()
        mailbox = resolve(segment) or MailboxKey(id=folded, address=folded)
    scope[_RESOLVED_SCOPE_KEY] = mailbox
    return mailbox


def header_value(scope: Scope, name: str) -> str | None:
    """The first value of a request header (names compare case-insensitively)."""
    wanted = name.lower().encode("latin-1")
    for key, value in scope.get("headers", []):
        if key.lower() == wanted:
            return bytes(value).decode("latin-1")
    return None


def graph_error_response(
    scope: Scope,
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A Graph-shaped error response for the request in `scope` (echoing client-request-id)."""
    body = error_body(code, message, header_value(scope, "client-request-id"))
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))
