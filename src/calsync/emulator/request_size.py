"""Graph refuses request bodies over its size limit with 413 before looking at them.

Microsoft answers that Graph requests are limited to about 4 MB (Microsoft Q&A 1824204, for
`sendMail`; GRAPH.md §11 lists 413 among Graph's status codes); bigger payloads need an upload
session, which the calendar API never offers, so an event write that large can only fail. The
emulator refuses a `/v1.0` request whose body is over `EmulatorConfig.max_request_bytes` (default
4 MiB) with 413 `RequestEntityTooLarge` (EMULATOR CHOICE: the exact code Graph puts in the body
is undocumented), whether the client sent a Content-Length or a chunked body.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from calsync.emulator.config import EmulatorConfig
from calsync.emulator.traffic import GRAPH_ROOT, graph_error_response, header_value

TOO_LARGE_CODE = "RequestEntityTooLarge"


class RequestSizeLimitMiddleware:
    """413 for Graph calls whose body exceeds the configured limit; nothing of them is applied."""

    def __init__(self, app: ASGIApp, config: EmulatorConfig) -> None:
        self.app = app
        self.config = config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not (path == GRAPH_ROOT or path.startswith(GRAPH_ROOT + "/")):
            await self.app(scope, receive, send)
            return
        limit = self.config.max_request_bytes
        declared = header_value(scope, "content-length")
        if declared is not None and declared.strip().isdigit():
            if int(declared) > limit:
                await self._refuse(scope, receive, send, limit)
                return
            await self.app(scope, receive, send)  # the server holds the body to its length
            return
        # No length given (chunked): read the body up front, at most `limit` bytes, and replay it.
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                await self._refuse(scope, receive, send, limit)
                return
            if not message.get("more_body", False):
                break
        replay = iter(messages)

        async def replayed() -> Message:
            try:
                return next(replay)
            except StopIteration:
                return await receive()

        await self.app(scope, replayed, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = graph_error_response(
            scope,
            413,
            TOO_LARGE_CODE,
            f"The request size exceeds the maximum limit of {limit} bytes.",
        )
        await response(scope, receive, send)
