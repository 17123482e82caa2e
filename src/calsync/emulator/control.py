"""The control API under `/_emulator/`: what a test or the demo changes about "Microsoft 365".

Not part of Graph and needs no bearer token. JSON in, JSON out, errors in Graph's shape with the
field named. It adds mailboxes, injects faults, tunes throttling, expires delta and access tokens,
sends subscription lifecycle events, switches delta's optional oddities (empty first page,
duplicate items) globally or per mailbox, reports request counts per mailbox, and resets state.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from calsync.emulator.delta_quirks import InvalidQuirkSettings, QuirkOverride
from calsync.emulator.errors import GraphApiError
from calsync.emulator.faults import FaultRule
from calsync.emulator.operations import EmulatorOperations
from calsync.emulator.store import Mailbox
from calsync.emulator.subscriptions import LifecycleEvent
from calsync.emulator.webhook_delivery import DeliveryPolicy

CONTROL_ROOT = "/_emulator"


def _invalid(message: str) -> GraphApiError:
    return GraphApiError(400, "invalidControlRequest", message)


def _operations(request: Request) -> EmulatorOperations:
    operations: EmulatorOperations = request.app.state.operations
    return operations


async def _object_body(request: Request, *, optional: bool = False) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip() and optional:
        return {}
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _invalid(f"body: not valid JSON ({exc})") from exc
    if not isinstance(body, dict):
        raise _invalid("body: must be a JSON object")
    return body


def _mailbox_json(mailbox: Mailbox) -> dict[str, Any]:
    return {
        "id": mailbox.id,
        "address": mailbox.address,
        "displayName": mailbox.display_name,
        "canHostTeams": mailbox.can_host_teams,
    }


def _flag(body: dict[str, Any], field: str, default: bool) -> bool:
    value = body.get(field, default)
    if not isinstance(value, bool):
        raise _invalid(f"{field}: must be true or false")
    return value


# -- mailboxes ----------------------------------------------------------------------------


async def list_mailboxes(request: Request) -> JSONResponse:
    store = _operations(request).emulator.store
    return JSONResponse({"value": [_mailbox_json(m) for m in store.list_mailboxes()]})


async def add_mailbox(request: Request) -> JSONResponse:
    """Add a mailbox; `canHostTeams: false` models an unlicensed user (Teams silently off)."""
    body = await _object_body(request)
    unknown = sorted(set(body) - {"address", "displayName", "canHostTeams"})
    if unknown:
        raise _invalid(f"{unknown[0]}: unknown field; expected address, displayName, canHostTeams")
    address = body.get("address")
    if not isinstance(address, str) or address.count("@") != 1 or " " in address.strip():
        raise _invalid("address: must be an email address such as ada@contoso.com")
    display_name = body.get("displayName")
    if display_name is not None and (not isinstance(display_name, str) or not display_name.strip()):
        raise _invalid("displayName: must be a non-empty string")
    can_host_teams = _flag(body, "canHostTeams", True)
    store = _operations(request).emulator.store
    existed = store.get_mailbox(address.strip()) is not None
    mailbox = store.add_mailbox(address.strip(), display_name, can_host_teams=can_host_teams)
    if existed and mailbox.can_host_teams != can_host_teams:
        mailbox = store.set_can_host_teams(mailbox.id, can_host_teams)
    return JSONResponse(_mailbox_json(mailbox), status_code=200 if existed else 201)


async def update_mailbox(request: Request) -> JSONResponse:
    body = await _object_body(request)
    unknown = sorted(set(body) - {"canHostTeams"})
    if unknown:
        raise _invalid(f"{unknown[0]}: only canHostTeams can be changed")
    store = _operations(request).emulator.store
    name = request.path_params["mailbox"]
    if store.get_mailbox(name) is None:
        raise GraphApiError(404, "ErrorItemNotFound", f"mailbox: there is no mailbox {name!r}")
    mailbox = store.set_can_host_teams(name, _flag(body, "canHostTeams", True))
    return JSONResponse(_mailbox_json(mailbox))


# -- faults -------------------------------------------------------------------------------


async def list_faults(request: Request) -> JSONResponse:
    return JSONResponse({"value": _operations(request).faults.rules()})


async def add_fault(request: Request) -> JSONResponse:
    rule = _operations(request).faults.add(FaultRule.from_json(await _object_body(request)))
    return JSONResponse(rule.to_json(rule.next_requests), status_code=201)


async def clear_faults(request: Request) -> Response:
    _operations(request).faults.clear()
    return Response(status_code=204)


async def remove_fault(request: Request) -> Response:
    rule_id = request.path_params["rule_id"]
    if not _operations(request).faults.remove(rule_id):
        raise GraphApiError(404, "ErrorItemNotFound", f"rule: no active fault rule {rule_id!r}")
    return Response(status_code=204)


async def seed_faults(request: Request) -> Response:
    body = await _object_body(request)
    seed = body.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise _invalid("seed: must be a whole number")
    _operations(request).faults.seed(seed)
    return Response(status_code=204)


# -- throttling ---------------------------------------------------------------------------


async def get_throttling(request: Request) -> JSONResponse:
    return JSONResponse(_operations(request).throttle.settings.to_json())


async def set_throttling(request: Request) -> JSONResponse:
    """Change some or all limits; fields left out keep their current value."""
    throttle = _operations(request).throttle
    settings = throttle.settings.updated_from_json(await _object_body(request))
    throttle.configure(settings)
    return JSONResponse(settings.to_json())


# -- tokens -------------------------------------------------------------------------------


async def expire_delta_tokens(request: Request) -> Response:
    """Every outstanding delta/skip token (of one mailbox, or all) now answers 410."""
    body = await _object_body(request, optional=True)
    mailbox = body.get("mailbox")
    if mailbox is not None and not isinstance(mailbox, str):
        raise _invalid("mailbox: must be a mailbox id or address")
    store = _operations(request).emulator.store
    if mailbox is not None and store.get_mailbox(mailbox) is None:
        raise GraphApiError(404, "ErrorItemNotFound", f"mailbox: there is no mailbox {mailbox!r}")
    store.expire_delta_tokens(mailbox)
    return Response(status_code=204)


async def expire_access_tokens(request: Request) -> Response:
    """Every access token issued so far now answers 401 InvalidAuthenticationToken."""
    _operations(request).emulator.tokens.expire_all()
    return Response(status_code=204)


# -- subscriptions and webhooks ----------------------------------------------------------


async def list_subscriptions(request: Request) -> JSONResponse:
    service = _operations(request).subscriptions
    graph_url = service.graph_url()
    return JSONResponse(
        {
            "value": [
                {**s.to_json(graph_url), "pausedForReauthorization": s.paused_for_reauthorization}
                for s in service.active()
            ]
        }
    )


async def send_lifecycle_event(request: Request) -> JSONResponse:
    """Send `missed`, `subscriptionRemoved` or `reauthorizationRequired` to the subscriber."""
    body = await _object_body(request)
    try:
        event = LifecycleEvent(str(body.get("lifecycleEvent")))
    except ValueError:
        raise _invalid(
            f"lifecycleEvent: must be one of {[e.value for e in LifecycleEvent]}, "
            f"got {body.get('lifecycleEvent')!r}"
        ) from None
    service = _operations(request).subscriptions
    subscription = service.send_lifecycle(request.path_params["subscription_id"], event)
    return JSONResponse(
        {"subscriptionId": subscription.id, "lifecycleEvent": event.value}, status_code=202
    )


async def get_webhook_policy(request: Request) -> JSONResponse:
    return JSONResponse(_operations(request).subscriptions.delivery.policy.to_json())


async def set_webhook_policy(request: Request) -> JSONResponse:
    """Change delivery timeouts and retries (fields left out keep their value)."""
    delivery = _operations(request).subscriptions.delivery
    merged = {**delivery.policy.to_json(), **(await _object_body(request))}
    delivery.policy = DeliveryPolicy.from_json(merged)
    return JSONResponse(delivery.policy.to_json())


async def list_deliveries(request: Request) -> JSONResponse:
    """Finished notification deliveries, oldest first (the last 500)."""
    history = list(_operations(request).subscriptions.delivery.history)
    return JSONResponse(
        {
            "value": [
                {
                    "url": record.url,
                    "notifications": record.notifications,
                    "attempts": record.attempts,
                    "delivered": record.delivered,
                    "lastStatus": record.last_status,
                }
                for record in history
            ]
        }
    )


# -- delta quirks -------------------------------------------------------------------------


def _quirks_mailbox(request: Request) -> Mailbox:
    name = request.path_params["mailbox"]
    mailbox = _operations(request).emulator.store.get_mailbox(name)
    if mailbox is None:
        raise GraphApiError(404, "ErrorItemNotFound", f"mailbox: there is no mailbox {name!r}")
    return mailbox


def _quirks_json(request: Request) -> dict[str, Any]:
    """Effective settings for every mailbox not overridden, plus each mailbox override."""
    operations = _operations(request)
    quirks = operations.delta_quirks
    store = operations.emulator.store
    mailboxes = {}
    for mailbox_id, override in quirks.mailbox_overrides().items():
        mailbox = store.get_mailbox(mailbox_id)
        if mailbox is not None:
            mailboxes[mailbox.address] = {
                **quirks.for_mailbox(mailbox_id).to_json(),
                "override": override.to_json(),
            }
    return {
        **quirks.for_mailbox("").to_json(),
        "override": quirks.global_override().to_json(),
        "mailboxes": mailboxes,
    }


def _parsed_override(body: dict[str, Any], current: QuirkOverride) -> QuirkOverride:
    try:
        return QuirkOverride.from_json(body, current)
    except InvalidQuirkSettings as exc:
        raise GraphApiError(400, InvalidQuirkSettings.code, str(exc)) from exc


async def get_delta_quirks(request: Request) -> JSONResponse:
    return JSONResponse(_quirks_json(request))


async def set_delta_quirks(request: Request) -> JSONResponse:
    """Turn quirks on (true) or off (false) for every mailbox; null hands back to the config."""
    quirks = _operations(request).delta_quirks
    body = await _object_body(request)
    quirks.set_global(_parsed_override(body, quirks.global_override()))
    return JSONResponse(_quirks_json(request))


async def clear_delta_quirks(request: Request) -> Response:
    """Every override, global and per mailbox, is dropped: the configuration rules again."""
    _operations(request).delta_quirks.clear()
    return Response(status_code=204)


async def get_mailbox_delta_quirks(request: Request) -> JSONResponse:
    mailbox = _quirks_mailbox(request)
    quirks = _operations(request).delta_quirks
    return JSONResponse(
        {
            **quirks.for_mailbox(mailbox.id).to_json(),
            "override": quirks.mailbox_override(mailbox.id).to_json(),
        }
    )


async def set_mailbox_delta_quirks(request: Request) -> JSONResponse:
    """Quirks for one mailbox only, whatever the global setting says."""
    mailbox = _quirks_mailbox(request)
    quirks = _operations(request).delta_quirks
    body = await _object_body(request)
    quirks.set_mailbox(mailbox.id, _parsed_override(body, quirks.mailbox_override(mailbox.id)))
    return await get_mailbox_delta_quirks(request)


async def clear_mailbox_delta_quirks(request: Request) -> Response:
    mailbox = _quirks_mailbox(request)
    _operations(request).delta_quirks.clear_mailbox(mailbox.id)
    return Response(status_code=204)


# -- request counts and reset -------------------------------------------------------------


async def get_request_counts(request: Request) -> JSONResponse:
    return JSONResponse(_operations(request).requests.snapshot())


async def clear_request_counts(request: Request) -> Response:
    _operations(request).requests.clear()
    return Response(status_code=204)


async def reset(request: Request) -> Response:
    """Back to a fresh emulator: no events, faults, subscriptions, counts or delta-quirk
    overrides; mailboxes stay."""
    _operations(request).reset()
    return Response(status_code=204)


def control_routes() -> list[BaseRoute]:
    """The `/_emulator/...` routes, to add to the emulator app."""
    root = CONTROL_ROOT
    return [
        Route(f"{root}/mailboxes", list_mailboxes, methods=["GET"]),
        Route(f"{root}/mailboxes", add_mailbox, methods=["POST"]),
        Route(f"{root}/mailboxes/{{mailbox}}", update_mailbox, methods=["PATCH"]),
        Route(f"{root}/faults", list_faults, methods=["GET"]),
        Route(f"{root}/faults", add_fault, methods=["POST"]),
        Route(f"{root}/faults", clear_faults, methods=["DELETE"]),
        Route(f"{root}/faults/seed", seed_faults, methods=["PUT"]),
        Route(f"{root}/faults/{{rule_id}}", remove_fault, methods=["DELETE"]),
        Route(f"{root}/throttling", get_throttling, methods=["GET"]),
        Route(f"{root}/throttling", set_throttling, methods=["PUT", "PATCH"]),
        Route(f"{root}/delta-tokens/expire", expire_delta_tokens, methods=["POST"]),
        Route(f"{root}/access-tokens/expire", expire_access_tokens, methods=["POST"]),
        Route(f"{root}/subscriptions", list_subscriptions, methods=["GET"]),
        Route(
            f"{root}/subscriptions/{{subscription_id}}/lifecycle",
            send_lifecycle_event,
            methods=["POST"],
        ),
        Route(f"{root}/webhooks", get_webhook_policy, methods=["GET"]),
        Route(f"{root}/webhooks", set_webhook_policy, methods=["PUT", "PATCH"]),
        Route(f"{root}/webhooks/deliveries", list_deliveries, methods=["GET"]),
        Route(f"{root}/delta-quirks", get_delta_quirks, methods=["GET"]),
        Route(f"{root}/delta-quirks", set_delta_quirks, methods=["PUT", "PATCH"]),
        Route(f"{root}/delta-quirks", clear_delta_quirks, methods=["DELETE"]),
        Route(f"{root}/delta-quirks/{{mailbox}}", get_mailbox_delta_quirks, methods=["GET"]),
        Route(
            f"{root}/delta-quirks/{{mailbox}}", set_mailbox_delta_quirks, methods=["PUT", "PATCH"]
        ),
        Route(f"{root}/delta-quirks/{{mailbox}}", clear_mailbox_delta_quirks, methods=["DELETE"]),
        Route(f"{root}/requests", get_request_counts, methods=["GET"]),
        Route(f"{root}/requests", clear_request_counts, methods=["DELETE"]),
        Route(f"{root}/reset", reset, methods=["POST"]),
    ]
