"""Pagination of list endpoints: `?limit=` plus an opaque `?cursor=`, and a `next` link.

Clients never build cursors themselves; they follow `next` until it is `null`. Keeping the cursor
opaque lets us change how a position is stored (today: an offset into a stable ordering) without
breaking anyone.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Query, Request
from pydantic import BaseModel, Field

from calsync.web.errors import ApiError

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Far beyond any real list; keeps a forged cursor from reaching the database as a huge OFFSET.
_MAX_OFFSET = 10_000_000
_CURSOR_PREFIX = "o:"

ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    """One page of a list; `next` is the link to the following page, or null on the last one."""

    items: list[ItemT]
    next: str | None = Field(
        description="Path and query of the next page (same filters); null on the last page."
    )


@dataclass(frozen=True)
class PageRequest:
    """Which slice of a list the client asked for."""

    limit: int
    offset: int

    @property
    def fetch_count(self) -> int:
        """Rows to fetch: one more than the page, to learn whether a next page exists."""
        return self.limit + 1


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The offset a cursor stands for; `invalid_cursor` for anything we did not hand out."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        if not text.startswith(_CURSOR_PREFIX):
            raise ValueError(text)
        digits = text[len(_CURSOR_PREFIX) :]
        if not digits.isdigit() or len(digits) > 9:
            raise ValueError(text)
        offset = int(digits)
    except (ValueError, UnicodeError, binascii.Error):
        offset = -1
    if not 0 <= offset <= _MAX_OFFSET:
        raise ApiError(
            400,
            "invalid_cursor",
            "cursor is not one this API handed out; follow the `next` link of a previous page",
            "cursor",
        )
    return offset


def page_request(
    limit: Annotated[
        int,
        Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page (1–200)."),
    ] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[
        str | None,
        Query(max_length=64, description="Opaque position from a previous page's `next` link."),
    ] = None,
) -> PageRequest:
    """FastAPI dependency: the page a list request asks for."""
    return PageRequest(limit=limit, offset=0 if cursor is None else decode_cursor(cursor))


def build_page(request: Request, page: PageRequest, fetched: list[ItemT]) -> Page[ItemT]:
    """Cut `fetched` (up to `page.fetch_count` rows) into a page and link the next one."""
    items = fetched[: page.limit]
    next_link: str | None = None
    if len(fetched) > page.limit:
        url = request.url.include_query_params(
            cursor=encode_cursor(page.offset + page.limit), limit=page.limit
        )
        next_link = f"{url.path}?{url.query}"
    return Page[ItemT](items=items, next=next_link)
