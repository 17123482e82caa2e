"""Reading collections page by page: follow ``@odata.nextLink`` exactly as Graph gives it, until it
is absent.

Pages are parsed straight from the response bytes into typed models (pydantic's JSON parser
validates while it parses, which is what keeps the client near the cost of a bare ``json.loads``),
and each page is handed to the caller before the next is requested, so memory stays bounded by one
page whatever the collection's size.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TypeVar

import httpx
from pydantic import ValidationError

from calsync.graph.errors import InvalidResponse
from calsync.graph.models import CollectionPage
from calsync.graph.transport import GraphTransport

PageT = TypeVar("PageT", bound=CollectionPage)


def page_size_preference(page_size: int | None) -> tuple[str, ...]:
    """The ``Prefer`` entry that caps page size; Graph wants it repeated on every follow-up
    request."""
    return (f"odata.maxpagesize={page_size}",) if page_size else ()


def parse_page(response: httpx.Response, model: type[PageT]) -> PageT:
    """Validate one page; a body that is not the documented shape becomes ``InvalidResponse``."""
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise InvalidResponse(
            f"{response.request.method} {response.request.url.path} returned an unreadable page "
            f"({where}: {first['msg']})",
            status=response.status_code,
        ) from exc


async def iterate_pages(
    transport: GraphTransport,
    path: str,
    model: type[PageT],
    *,
    mailbox: str | None,
    params: Mapping[str, str] | None = None,
    page_size: int | None = None,
) -> AsyncIterator[PageT]:
    """Yield each page of a collection; the first request carries ``params``, later ones only the
    link."""
    prefer = page_size_preference(page_size)
    link: str | None = path
    query: Mapping[str, str] | None = params
    while link is not None:
        response = await transport.send(
            "GET", link, mailbox=mailbox, params=query, prefer=prefer, retry_precondition=True
        )
        page = parse_page(response, model)
        yield page
        link = page.next_link
        query = None
