"""Change-notification subscriptions on mailbox events (GRAPH.md §8).

`POST /v1.0/subscriptions` for `/users/{id}/events` validates the receiver with Graph's handshake,
then every committed event change in that mailbox (the store's `add_listener` hook, attendee
copies included) becomes a notification POSTed to the receiver. Subscriptions live at most 4,230
minutes, are renewed by PATCH, removed when they expire, and can be sent lifecycle events
(`missed`, `subscriptionRemoved`, `reauthorizationRequired`) through the control API.
When a notification is given up on after the retry window, the subscriber is sent `missed`, as
Graph does when notifications were lost. Subscriptions are written to the store (with everything
notifications need: resource, URLs, clientState, expiry, id form, paused state), so an emulator
restarted on the same `--state` file still knows them for GET/PATCH/DELETE and still notifies
them; notifications that were queued or being retried when it stopped are lost.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from calsync.emulator.errors import GraphApiError
from calsync.emulator.ids import decode_id, encode_id
from calsync.emulator.prefer import parse_preferences
from calsync.emulator.store import ChangeNotice, EmulatorStore
from calsync.emulator.webhook_delivery import WebhookDelivery, check_receiver_url

MAX_LIFETIME = timedelta(minutes=4230)
MAX_CLIENT_STATE_LENGTH = 128
CHANGE_TYPES = ("created", "updated", "deleted")
_RESOURCE = re.compile(r"^/?users/(?P<mailbox>[^/]+)/events/?$", re.IGNORECASE)
_CREATE_FIELDS = frozenset(
    {
        "changeType",
        "notificationUrl",
        "lifecycleNotificationUrl",
        "resource",
        "expirationDateTime",
        "clientState",
        "includeResourceData",
        "latestSupportedTlsVersion",
        "@odata.type",
    }
)


class LifecycleEvent(StrEnum):
    """The lifecycle notifications Outlook sends for event subscriptions."""

    MISSED = "missed"
    SUBSCRIPTION_REMOVED = "subscriptionRemoved"
    REAUTHORIZATION_REQUIRED = "reauthorizationRequired"


def _invalid(message: str) -> GraphApiError:
    return GraphApiError(400, "InvalidRequest", message)


def _not_found(subscription_id: str) -> GraphApiError:
    return GraphApiError(
        404, "ResourceNotFound", f"The subscription {subscription_id!r} does not exist."
    )


def format_graph_time(value: datetime) -> str:
    """Graph's UTC timestamp with seven fractional digits."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


@dataclass(frozen=True)
class Subscription:
    """One active subscription, as created by the client (plus what the emulator derived)."""

    id: str
    resource: str
    mailbox_id: str
    change_types: tuple[str, ...]
    notification_url: str
    lifecycle_notification_url: str | None
    client_state: str | None
    expiration: datetime
    immutable_ids: bool
    application_id: str
    creator_id: str
    paused_for_reauthorization: bool = False

    def to_record(self) -> dict[str, Any]:
        """What the store keeps of it: every field, the expiry as ISO 8601 with offset."""
        return {
            "id": self.id,
            "resource": self.resource,
            "mailboxId": self.mailbox_id,
            "changeTypes": list(self.change_types),
            "notificationUrl": self.notification_url,
            "lifecycleNotificationUrl": self.lifecycle_notification_url,
            "clientState": self.client_state,
            "expiration": self.expiration.isoformat(),
            "immutableIds": self.immutable_ids,
            "applicationId": self.application_id,
            "creatorId": self.creator_id,
            "pausedForReauthorization": self.paused_for_reauthorization,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Subscription:
        return cls(
            id=str(record["id"]),
            resource=str(record["resource"]),
            mailbox_id=str(record["mailboxId"]),
            change_types=tuple(str(t) for t in record["changeTypes"]),
            notification_url=str(record["notificationUrl"]),
            lifecycle_notification_url=record["lifecycleNotificationUrl"],
            client_state=record["clientState"],
            expiration=datetime.fromisoformat(str(record["expiration"])),
            immutable_ids=bool(record["immutableIds"]),
            application_id=str(record["applicationId"]),
            creator_id=str(record["creatorId"]),
            paused_for_reauthorization=bool(record["pausedForReauthorization"]),
        )

    def to_json(self, graph_url: str) -> dict[str, Any]:
        return {
            "@odata.context": f"{graph_url}/$metadata#subscriptions/$entity",
            "id": self.id,
            "resource": self.resource,
            "applicationId": self.application_id,
            "changeType": ",".join(self.change_types),
            "clientState": self.client_state,
            "notificationUrl": self.notification_url,
            "lifecycleNotificationUrl": self.lifecycle_notification_url,
            "expirationDateTime": format_graph_time(self.expiration),
            "creatorId": self.creator_id,
            "includeResourceData": False,
            "latestSupportedTlsVersion": "v1_2",
            "encryptionCertificate": None,
            "encryptionCertificateId": None,
            "notificationQueryOptions": None,
            "notificationUrlAppId": None,
        }


class SubscriptionService:
    """The subscriptions of one emulator and the notifications they cause.

    `on_change` is registered with the store; it runs on whichever thread committed the change
    and only hands the notifications to `WebhookDelivery`, which POSTs them on the event loop.
    The registry is the store's `subscriptions` table, mirrored in memory (every event write asks
    which subscriptions match, so that lookup must not be a query); writes go to both.
    """

    def __init__(
        self,
        store: EmulatorStore,
        tenant: str,
        client_id: str,
        graph_url: Callable[[], str],
        delivery: WebhookDelivery | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.tenant = tenant
        self.client_id = client_id
        self.graph_url = graph_url
        self.delivery = delivery or WebhookDelivery()
        self.delivery.on_given_up = self._report_missed
        self.clock = clock
        self._lock = threading.Lock()
        self._subscriptions: dict[str, Subscription] = {
            record["id"]: Subscription.from_record(record) for record in store.load_subscriptions()
        }
        store.add_listener(self.on_change)

    # -- the registry ---------------------------------------------------------------------

    def active(self) -> list[Subscription]:
        """Every subscription that has not expired; expired ones are removed on the way."""
        now = self.clock()
        with self._lock:
            for expired in [s.id for s in self._subscriptions.values() if s.expiration <= now]:
                del self._subscriptions[expired]
                self.store.delete_subscription(expired)
            return list(self._subscriptions.values())

    def get(self, subscription_id: str) -> Subscription:
        found = next((s for s in self.active() if s.id == subscription_id), None)
        if found is None:
            raise _not_found(subscription_id)
        return found

    def remove(self, subscription_id: str) -> None:
        with self._lock:
            if self._subscriptions.pop(subscription_id, None) is None:
                raise _not_found(subscription_id)
            self.store.delete_subscription(subscription_id)

    def clear(self) -> None:
        with self._lock:
            self._subscriptions.clear()
            self.store.clear_subscriptions()

    def _put(self, subscription: Subscription) -> None:
        with self._lock:
            self.store.save_subscription(subscription.id, subscription.to_record())
            self._subscriptions[subscription.id] = subscription

    # -- the Graph operations -------------------------------------------------------------

    async def create(self, body: object, immutable_ids: bool) -> Subscription:
        """Validate the body and the receiver(s); only then does the subscription exist."""
        if not isinstance(body, dict):
            raise _invalid("body: must be a JSON object")
        unknown = sorted(set(body) - _CREATE_FIELDS)
        if unknown:
            raise _invalid(f"{unknown[0]}: not a property of a subscription")
        change_types = self._change_types(body.get("changeType"))
        resource = body.get("resource")
        mailbox_id = self._mailbox_of_resource(resource)
        notification_url = check_receiver_url("notificationUrl", body.get("notificationUrl"))
        lifecycle_url = body.get("lifecycleNotificationUrl")
        if lifecycle_url is not None:
            lifecycle_url = check_receiver_url("lifecycleNotificationUrl", lifecycle_url)
        expiration = self._expiration(body.get("expirationDateTime"))
        client_state = body.get("clientState")
        if client_state is not None and (
            not isinstance(client_state, str) or len(client_state) > MAX_CLIENT_STATE_LENGTH
        ):
            raise _invalid(f"clientState: must be a string of at most {MAX_CLIENT_STATE_LENGTH}")
        if body.get("includeResourceData"):
            raise _invalid(
                "includeResourceData: notifications with resource data are not supported by the "
                "emulator; subscribe without it and read changes with delta"
            )
        self.delivery.bind_loop()
        for field, url in (
            ("notificationUrl", notification_url),
            ("lifecycleNotificationUrl", lifecycle_url),
        ):
            if url is None:
                continue
            problem = await self.delivery.validate(url)
            if problem is not None:
                raise GraphApiError(
                    400,
                    "InvalidRequest",
                    f"{field}: Subscription validation request failed: {problem}. The endpoint "
                    "must answer 200 with the decoded validationToken as text/plain within 10 s.",
                )
        subscription = Subscription(
            id=str(uuid.uuid4()),
            resource=str(resource),
            mailbox_id=mailbox_id,
            change_types=change_types,
            notification_url=notification_url,
            lifecycle_notification_url=lifecycle_url,
            client_state=client_state,
            expiration=expiration,
            immutable_ids=immutable_ids,
            application_id=self.client_id,
            creator_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"app:{self.client_id}")),
        )
        self._put(subscription)
        return subscription

    async def update(self, subscription_id: str, body: object) -> Subscription:
        """Renew (new expirationDateTime) and/or move the notification URL; also reauthorizes."""
        current = self.get(subscription_id)
        if not isinstance(body, dict) or not body:
            raise _invalid("body: give expirationDateTime and/or notificationUrl")
        if "lifecycleNotificationUrl" in body:
            raise _invalid(
                "lifecycleNotificationUrl: cannot be added or changed by PATCH; delete the "
                "subscription and create a new one"
            )
        unknown = sorted(set(body) - {"expirationDateTime", "notificationUrl"})
        if unknown:
            raise _invalid(
                f"{unknown[0]}: cannot be changed; only expirationDateTime and notificationUrl"
            )
        updated = current
        if "expirationDateTime" in body:
            updated = replace(updated, expiration=self._expiration(body["expirationDateTime"]))
        if "notificationUrl" in body:
            url = check_receiver_url("notificationUrl", body["notificationUrl"])
            self.delivery.bind_loop()
            problem = await self.delivery.validate(url)
            if problem is not None:
                raise _invalid(
                    f"notificationUrl: Subscription validation request failed: {problem}"
                )
            updated = replace(updated, notification_url=url)
        updated = replace(updated, paused_for_reauthorization=False)
        self._put(updated)
        return updated

    def reauthorize(self, subscription_id: str) -> None:
        """`POST /subscriptions/{id}/reauthorize`: resume delivery without extending the life."""
        self._put(replace(self.get(subscription_id), paused_for_reauthorization=False))

    def send_lifecycle(self, subscription_id: str, event: LifecycleEvent) -> Subscription:
        """Send a lifecycle notification (control API) and apply what it means for delivery."""
        subscription = self.get(subscription_id)
        if subscription.lifecycle_notification_url is None:
            raise _invalid(
                "lifecycleNotificationUrl: the subscription has none, so it cannot receive "
                "lifecycle notifications"
            )
        self.delivery.bind_loop()
        self.delivery.send_now(
            subscription.lifecycle_notification_url, [self._lifecycle(subscription, event)]
        )
        if event is LifecycleEvent.SUBSCRIPTION_REMOVED:
            self.remove(subscription.id)
        elif event is LifecycleEvent.REAUTHORIZATION_REQUIRED:
            self._put(replace(subscription, paused_for_reauthorization=True))
        return subscription

    def _lifecycle(self, subscription: Subscription, event: LifecycleEvent) -> dict[str, Any]:
        return {
            "subscriptionId": subscription.id,
            "subscriptionExpirationDateTime": format_graph_time(subscription.expiration),
            "tenantId": self.tenant,
            "clientState": subscription.client_state,
            "lifecycleEvent": event.value,
        }

    def _report_missed(self, given_up: list[dict[str, Any]]) -> None:
        """Notifications were dropped after the retry window: tell each subscriber `missed`.

        Only change notifications lead to this (a lost lifecycle notification is not reported
        again), and only to subscriptions that still exist and have a lifecycle URL.
        """
        if any("lifecycleEvent" in notification for notification in given_up):
            return
        affected = {notification["subscriptionId"] for notification in given_up}
        for subscription in self.active():
            if subscription.id in affected and subscription.lifecycle_notification_url:
                self.delivery.send_now(
                    subscription.lifecycle_notification_url,
                    [self._lifecycle(subscription, LifecycleEvent.MISSED)],
                )

    # -- notifications --------------------------------------------------------------------

    def on_change(self, notice: ChangeNotice) -> None:
        """Store listener: one notification per matching, active, unpaused subscription."""
        for subscription in self.active():
            if (
                subscription.mailbox_id != notice.mailbox_id
                or notice.change_type not in subscription.change_types
                or subscription.paused_for_reauthorization
            ):
                continue
            self.delivery.submit(
                subscription.notification_url, self._notification(subscription, notice)
            )

    def _notification(self, subscription: Subscription, notice: ChangeNotice) -> dict[str, Any]:
        event_id = notice.event_id
        if subscription.immutable_ids:
            event_id = encode_id(decode_id(event_id), immutable=True)
        resource = f"Users/{notice.mailbox_id}/Events/{event_id}"
        resource_data: dict[str, Any] = {
            "@odata.type": "#Microsoft.Graph.Event",
            "@odata.id": resource,
            "id": event_id,
        }
        if notice.etag is not None:
            resource_data["@odata.etag"] = notice.etag
        return {
            "id": secrets.token_urlsafe(9),
            "subscriptionId": subscription.id,
            "subscriptionExpirationDateTime": format_graph_time(subscription.expiration),
            "changeType": notice.change_type,
            "clientState": subscription.client_state,
            "tenantId": self.tenant,
            "resource": resource,
            "resourceData": resource_data,
        }

    # -- validation helpers ---------------------------------------------------------------

    def _change_types(self, value: object) -> tuple[str, ...]:
        if not isinstance(value, str) or not value.strip():
            raise _invalid(f"changeType: must be a comma-separated subset of {list(CHANGE_TYPES)}")
        parts = [part.strip() for part in value.split(",")]
        wrong = [part for part in parts if part not in CHANGE_TYPES]
        if wrong:
            raise _invalid(
                f"changeType: {wrong[0]!r} is not one of {list(CHANGE_TYPES)} (comma-separated)"
            )
        return tuple(t for t in CHANGE_TYPES if t in parts)

    def _mailbox_of_resource(self, value: object) -> str:
        match = _RESOURCE.match(value) if isinstance(value, str) else None
        if match is None:
            raise _invalid(
                f"resource: the emulator supports '/users/{{id or address}}/events', got {value!r}"
            )
        name = unquote(match["mailbox"])  # `/users/ada%40contoso.com/events` names Ada too
        mailbox = self.store.get_mailbox(name)
        if mailbox is None:
            raise _invalid(f"resource: there is no mailbox {name!r}")
        return mailbox.id

    def _expiration(self, value: object) -> datetime:
        if not isinstance(value, str):
            raise _invalid("expirationDateTime: required, an ISO 8601 date and time in UTC")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise _invalid(
                f"expirationDateTime: not an ISO 8601 date and time: {value!r}"
            ) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        now = self.clock()
        if parsed <= now:
            raise _invalid("expirationDateTime: must be in the future")
        if parsed - now > MAX_LIFETIME:
            raise _invalid(
                "expirationDateTime: a subscription to Outlook events lives at most 4230 minutes; "
                f"the latest allowed now is {format_graph_time(now + MAX_LIFETIME)}"
            )
        return parsed


def _service(request: Request) -> SubscriptionService:
    service: SubscriptionService = request.app.state.operations.subscriptions
    return service


async def _json(request: Request) -> object:
    raw = await request.body()
    try:
        return json.loads(raw) if raw else None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _invalid(f"body: not valid JSON ({exc})") from exc


async def create_subscription(request: Request) -> JSONResponse:
    service = _service(request)
    immutable = parse_preferences(request.headers.getlist("prefer")).immutable_ids
    subscription = await service.create(await _json(request), immutable)
    return JSONResponse(subscription.to_json(service.graph_url()), status_code=201)


async def list_subscriptions(request: Request) -> JSONResponse:
    """The app's subscriptions in pages; the nextLink carries `$skip` (as the events lists do)."""
    service = _service(request)
    graph_url = service.graph_url()
    size: int = request.app.state.operations.emulator.config.subscriptions_page_size
    skip = _skip_of(request)
    subscriptions = sorted(service.active(), key=lambda s: s.id)
    body: dict[str, Any] = {
        "@odata.context": f"{graph_url}/$metadata#subscriptions",
        "value": [s.to_json(graph_url) for s in subscriptions[skip : skip + size]],
    }
    if skip + size < len(subscriptions):
        body["@odata.nextLink"] = f"{graph_url}/subscriptions?$skip={skip + size}"
    return JSONResponse(body)


def _skip_of(request: Request) -> int:
    raw = request.query_params.get("$skip", "0")
    if not raw.isdigit():
        raise _invalid(f"$skip: '{raw}' is not a whole number of subscriptions to skip")
    return int(raw)


async def get_subscription(request: Request) -> JSONResponse:
    service = _service(request)
    subscription = service.get(request.path_params["subscription_id"])
    return JSONResponse(subscription.to_json(service.graph_url()))


async def update_subscription(request: Request) -> JSONResponse:
    service = _service(request)
    subscription = await service.update(
        request.path_params["subscription_id"], await _json(request)
    )
    return JSONResponse(subscription.to_json(service.graph_url()))


async def delete_subscription(request: Request) -> Response:
    _service(request).remove(request.path_params["subscription_id"])
    return Response(status_code=204)


async def reauthorize_subscription(request: Request) -> Response:
    _service(request).reauthorize(request.path_params["subscription_id"])
    return Response(status_code=204)
