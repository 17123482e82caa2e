"""The two mail folders meetings write to: Sent Items and Inbox (eventMessages only)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from calsync.emulator.errors import item_not_found, unsupported_query
from calsync.emulator.graph_http import absolute_link, emulator_of, graph_context, graph_json
from calsync.emulator.meetings import FOLDER_INBOX, FOLDER_SENT

_FOLDERS = {"sentitems": FOLDER_SENT, "inbox": FOLDER_INBOX}


async def list_messages(request: Request) -> JSONResponse:
    emulator = emulator_of(request)
    mailbox = emulator.calendar.mailbox(request.path_params["user"])
    folder = _FOLDERS.get(request.path_params["folder"].lower())
    if folder is None:
        raise item_not_found("The specified folder could not be found in the store.")
    params = request.query_params
    for name in params:
        if name not in ("$top", "$skip"):
            raise unsupported_query(f"The query option '{name}' is not supported here.")
    try:
        top = int(params.get("$top", "10"))
        skip = int(params.get("$skip", "0"))
    except ValueError as exc:
        raise unsupported_query("$top and $skip must be whole numbers.") from exc
    if not 1 <= top <= 1000 or skip < 0:
        raise unsupported_query("$top must be 1 to 1000 and $skip 0 or more.")
    messages = emulator.store.list_messages(mailbox.id, folder)
    body: dict[str, object] = {
        "@odata.context": graph_context(
            request, f"users('{mailbox.address}')/mailFolders('{folder}')/messages"
        ),
        "value": messages[skip : skip + top],
    }
    if skip + top < len(messages):
        body["@odata.nextLink"] = absolute_link(
            request, {"$top": str(top), "$skip": str(skip + top)}
        )
    return graph_json(body)


def mail_routes() -> list[Route]:
    return [
        Route("/v1.0/users/{user}/mailFolders/{folder}/messages", list_messages, methods=["GET"])
    ]
