"""The operator-side state of one emulator: faults, throttling, request counts, subscriptions.

Engineer A's `Emulator` holds the Graph-side state (config, store, tokens). This bundle holds the
state that the traffic middlewares, `$batch`, subscriptions and the control API share, so the
control API can change it and `reset` can put all of it back to a fresh start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from calsync.emulator.config import EmulatorConfig
from calsync.emulator.delta_quirks import DeltaQuirks
from calsync.emulator.faults import FaultInjector
from calsync.emulator.request_counts import RequestCounts
from calsync.emulator.store import EmulatorStore
from calsync.emulator.subscriptions import SubscriptionService
from calsync.emulator.throttling import MailboxThrottle, ThrottleSettings
from calsync.emulator.tokens import TokenIssuer
from calsync.emulator.traffic import MailboxKey


class EmulatorCore(Protocol):
    """What the operator side needs of the emulator core (engineer A's `Emulator`)."""

    @property
    def config(self) -> EmulatorConfig: ...

    @property
    def store(self) -> EmulatorStore: ...

    @property
    def tokens(self) -> TokenIssuer: ...


def throttle_settings_of(config: EmulatorConfig) -> ThrottleSettings:
    """The throttling limits the configuration asks for."""
    return ThrottleSettings(
        requests_per_window=config.requests_per_window,
        window_seconds=float(config.window_seconds),
        max_concurrent=config.max_concurrent,
    )


@dataclass
class EmulatorOperations:
    """Faults, throttling, request counts, subscriptions and delta quirks of one emulator."""

    emulator: EmulatorCore
    faults: FaultInjector
    throttle: MailboxThrottle
    requests: RequestCounts
    subscriptions: SubscriptionService
    delta_quirks: DeltaQuirks

    def resolve_mailbox(self, segment: str) -> MailboxKey | None:
        """The mailbox a `/users/{segment}/...` path names, if the store knows it."""
        mailbox = self.emulator.store.get_mailbox(segment)
        return None if mailbox is None else MailboxKey(id=mailbox.id, address=mailbox.address)

    def reset(self) -> None:
        """No events, faults, subscriptions, deliveries or counts; limits and delta quirks back to
        the config's.

        Safe to call from any thread (a test's, while the server runs in its own), so fixtures
        that reuse one server can call `app.state.operations.reset()` between tests.
        """
        self.emulator.store.reset()
        self.faults.clear()
        self.faults.seed(0)
        self.throttle.reset()
        self.throttle.configure(throttle_settings_of(self.emulator.config))
        self.requests.clear()
        self.delta_quirks.clear()
        self.subscriptions.clear()
        self.subscriptions.delivery.cancel_all()
        self.subscriptions.delivery.history.clear()
