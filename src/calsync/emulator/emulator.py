"""The emulator object the app carries in `app.state.emulator`."""

from __future__ import annotations

from dataclasses import dataclass, field

from calsync.emulator.calendar import MailboxCalendar
from calsync.emulator.config import EmulatorConfig
from calsync.emulator.delta import DeltaTokens, RoundCache
from calsync.emulator.delta_quirks import DeltaQuirks
from calsync.emulator.faults import FaultInjector
from calsync.emulator.listing_cache import ListingCache
from calsync.emulator.store import EmulatorStore
from calsync.emulator.tokens import TokenIssuer


@dataclass
class Emulator:
    """Graph-side state of one emulated tenant: configuration, calendars, access tokens.

    `faults` is the operator side's fault injector, set when `create_app` wires it in.
    """

    config: EmulatorConfig
    store: EmulatorStore
    tokens: TokenIssuer
    calendar: MailboxCalendar = field(init=False)
    delta_tokens: DeltaTokens = field(init=False)
    delta_rounds: RoundCache = field(init=False)
    listings: ListingCache = field(init=False)
    delta_quirks: DeltaQuirks = field(init=False)
    faults: FaultInjector | None = None

    def __post_init__(self) -> None:
        self.calendar = MailboxCalendar(self.store)
        self.delta_tokens = DeltaTokens(self.store)
        self.delta_rounds = RoundCache()
        self.listings = ListingCache(self.store)
        self.delta_quirks = DeltaQuirks(self.config)

    @classmethod
    def from_config(cls, config: EmulatorConfig) -> Emulator:
        store = EmulatorStore(config.state_path)
        without_teams = {a.lower() for a in config.mailboxes_without_teams}
        for address in [*config.mailboxes, *config.mailboxes_without_teams]:
            mailbox = store.add_mailbox(address)
            if mailbox.can_host_teams == (address.lower() in without_teams):
                store.set_can_host_teams(mailbox.id, address.lower() not in without_teams)
        return cls(config=config, store=store, tokens=TokenIssuer(config.token_lifetime_seconds))
