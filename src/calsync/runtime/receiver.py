"""The receiver of Microsoft Graph change notifications (`calsync.runtime.webhooks`).

Both URLs answer Graph's validation handshake (`?validationToken=…` → 200 text/plain with the
token) and otherwise take a JSON batch of notifications, which the sync runtime checks (clientState)
and turns into debounced pulls. The answer is 202 at once: Graph retries slow or failing
receivers, and the pull happens after the answer anyway.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from calsync.runtime.host import RuntimeHost
from calsync.runtime.webhooks import LIFECYCLE_PATH, NOTIFICATIONS_PATH

router = APIRouter(include_in_schema=False)


async def _receive(request: Request) -> Response:
    token = request.query_params.get("validationToken")
    if token is not None:
        return PlainTextResponse(token)  # query parameters arrive URL-decoded
    runtime = getattr(request.app.state, "sync_runtime", None)
    if not isinstance(runtime, RuntimeHost) or runtime.subscriptions is None:
        return JSONResponse({"error": "webhooks are not enabled on this server"}, status_code=404)
    try:
        body: Any = json.loads(await request.body())
    except ValueError:
        return JSONResponse({"error": "the body is not JSON"}, status_code=400)
    notifications = body.get("value") if isinstance(body, dict) else None
    if not isinstance(notifications, list):
        return JSONResponse({"error": 'expected {"value": [...]}'}, status_code=400)
    runtime.on_notifications(notifications)
    return Response(status_code=202)


router.add_api_route(NOTIFICATIONS_PATH, _receive, methods=["POST"])
router.add_api_route(LIFECYCLE_PATH, _receive, methods=["POST"])
