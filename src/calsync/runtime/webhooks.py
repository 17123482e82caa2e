"""Change notifications (webhooks): one Graph subscription per synced mailbox, kept alive.

Optional: only when `CALSYNC_PUBLIC_URL` names where Microsoft 365 can reach this server (https,
or http on a loopback address for tests). Then:

- every synced mailbox gets a subscription to its events (created, updated, deleted) with
  `notificationUrl` = `{public}/webhooks/graph/notifications` and `lifecycleNotificationUrl` =
  `{public}/webhooks/graph/lifecycle`; Graph validates both with its handshake before creating;
- each is renewed when less than a third of its lifetime is left, always to at most 4,230 minutes
  (Graph's limit for Outlook events, GRAPH.md §8); a mailbox no longer synced loses its
  subscription;
- the `clientState` is derived from the encryption key (HMAC), so it is secret, the same in every
  process and after a restart, and never stored; a notification with another one is rejected and
  logged;
- a notification only asks for a pull of its mailbox, debounced (`NOTIFICATION_DEBOUNCE`): a burst
  of changes becomes one delta run. Scheduled runs stay as the safety net.

Subscriptions that exist already (this app's, for our URL) are adopted at start-up, so a restart
does not create a second one per mailbox.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import ip_address
from typing import Any
from urllib.parse import unquote, urlsplit

from calsync.graph.client import GraphClient
from calsync.graph.errors import GraphError, NotFound
from calsync.graph.models import Subscription
from calsync.runtime.errors import SyncServiceError
from calsync.runtime.secrets import SecretBox

logger = logging.getLogger("calsync.runtime.webhooks")

PUBLIC_URL_VARIABLE = "CALSYNC_PUBLIC_URL"
NOTIFICATIONS_PATH = "/webhooks/graph/notifications"
LIFECYCLE_PATH = "/webhooks/graph/lifecycle"
MAX_LIFETIME = timedelta(minutes=4230)
# Asked for a little less than the limit, so clock skew never makes Graph refuse a renewal.
REQUESTED_LIFETIME = MAX_LIFETIME - timedelta(minutes=30)
RENEW_WHEN_LEFT = MAX_LIFETIME / 3
# Long enough to gather the notifications of one edit (a series and its exceptions arrive within
# milliseconds), short enough for an Outlook change to reach the CRM within 2 seconds.
NOTIFICATION_DEBOUNCE = timedelta(milliseconds=500)
CLIENT_STATE = "calsync graph webhooks v1"


@dataclass(frozen=True)
class WebhookSettings:
    """Where Graph sends notifications, and the clientState it must send back."""

    public_url: str
    client_state: str

    @property
    def notification_url(self) -> str:
        return self.public_url + NOTIFICATIONS_PATH

    @property
    def lifecycle_url(self) -> str:
        return self.public_url + LIFECYCLE_PATH

    @classmethod
    def from_environment(
        cls, box: SecretBox, environ: Mapping[str, str] | None = None
    ) -> WebhookSettings | None:
        """The configured public URL, or None: webhooks are off without one."""
        env = os.environ if environ is None else environ
        public = env.get(PUBLIC_URL_VARIABLE, "").strip().rstrip("/")
        if not public:
            return None
        return cls(public_url=checked_public_url(public), client_state=box.derive(CLIENT_STATE))

    def client_state_matches(self, sent: object) -> bool:
        return isinstance(sent, str) and hmac.compare_digest(sent, self.client_state)


def checked_public_url(url: str) -> str:
    parts = urlsplit(url)
    loopback = False
    if parts.hostname:
        try:
            loopback = parts.hostname == "localhost" or ip_address(parts.hostname).is_loopback
        except ValueError:
            loopback = False
    if parts.scheme == "https" or (parts.scheme == "http" and loopback):
        return url
    raise SyncServiceError(
        "must be an https URL Microsoft 365 can reach (http only on a loopback address)",
        field=PUBLIC_URL_VARIABLE,
        code="public_url_invalid",
    )


def mailbox_of_resource(resource: str | None) -> str | None:
    """`/users/ana%40firm.example/events` → `ana@firm.example` (our subscriptions' resources)."""
    if not resource:
        return None
    parts = resource.strip("/").split("/")
    if len(parts) != 3 or parts[0].lower() != "users" or parts[2].lower() != "events":
        return None
    return unquote(parts[1]).strip().lower()


class SubscriptionKeeper:
    """Keeps one live subscription per synced mailbox; knows which mailbox each one is for."""

    def __init__(self, settings: WebhookSettings) -> None:
        self.settings = settings
        self.by_id: dict[str, str] = {}
        self._expires: dict[str, datetime] = {}
        self._adopted = False

    def mailbox_of(self, subscription_id: str) -> str | None:
        return self.by_id.get(subscription_id)

    def forget(self, subscription_id: str) -> None:
        """Graph removed it: the next `maintain` creates a new one."""
        self.by_id.pop(subscription_id, None)
        self._expires.pop(subscription_id, None)

    async def maintain(self, graph: GraphClient, mailboxes: list[str], now: datetime) -> None:
        """Create missing subscriptions, renew those past two thirds of their life, remove those of
        mailboxes no longer synced. A failure is logged and retried at the next call."""
        if not self._adopted:
            await self._adopt(graph)
        wanted = set(mailboxes)
        covered = set(self.by_id.values())
        for subscription_id, mailbox in list(self.by_id.items()):
            if mailbox not in wanted:
                await self._quietly(self._delete(graph, subscription_id), mailbox)
            elif self._expires[subscription_id] - now < RENEW_WHEN_LEFT:
                await self._quietly(self.renew(graph, subscription_id, now), mailbox)
        for mailbox in sorted(wanted - covered):
            await self._quietly(self._create(graph, mailbox, now), mailbox)

    async def renew(self, graph: GraphClient, subscription_id: str, now: datetime) -> None:
        try:
            renewed = await graph.renew_subscription(
                subscription_id, expires_at=now + REQUESTED_LIFETIME
            )
        except NotFound:
            self.forget(subscription_id)
            return
        self._remember(renewed, self.by_id[subscription_id])

    async def _create(self, graph: GraphClient, mailbox: str, now: datetime) -> None:
        created = await graph.create_subscription(
            mailbox,
            notification_url=self.settings.notification_url,
            lifecycle_notification_url=self.settings.lifecycle_url,
            client_state=self.settings.client_state,
            expires_at=now + REQUESTED_LIFETIME,
        )
        self._remember(created, mailbox)
        logger.info("subscribed to changes of %s", mailbox, extra={"mailbox": mailbox})

    async def _delete(self, graph: GraphClient, subscription_id: str) -> None:
        with contextlib.suppress(NotFound):
            await graph.delete_subscription(subscription_id)
        self.forget(subscription_id)

    async def adopt(self, graph: GraphClient) -> None:
        """Learn the subscriptions Graph has for our notification URL (made by another process,
        or before a restart); `calsync serve` in jobs mode maps notifications with it."""
        await self._adopt(graph)

    async def _adopt(self, graph: GraphClient) -> None:
        """Take over this app's subscriptions for our notification URL (made before a restart)."""
        async for subscription in graph.list_subscriptions():
            mailbox = mailbox_of_resource(subscription.resource)
            if (
                mailbox is not None
                and subscription.notification_url == self.settings.notification_url
                and subscription.expiration_date_time is not None
                and mailbox not in self.by_id.values()
            ):
                self._remember(subscription, mailbox)
        self._adopted = True

    def _remember(self, subscription: Subscription, mailbox: str) -> None:
        self.by_id[subscription.id] = mailbox
        if subscription.expiration_date_time is not None:
            self._expires[subscription.id] = subscription.expiration_date_time

    async def _quietly(self, work: Coroutine[Any, Any, None], mailbox: str) -> None:
        try:
            await work
        except GraphError as error:
            logger.warning(
                "subscription of %s not kept: %s",
                mailbox,
                error,
                extra={"mailbox": mailbox, "code": error.code},
            )
