"""Settings of one emulated Microsoft 365 tenant."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

GRAPH_SCOPE = "https://graph.microsoft.com/.default"


@dataclass
class EmulatorConfig:
    """What a running emulator pretends to be.

    The object is deliberately mutable: the control API and tests flip the optional delta
    behaviours at run time, and the server runner fills in `public_base_url` once the port is known.
    """

    tenant: str = "contoso.onmicrosoft.com"
    client_id: str = "00000000-0000-0000-0000-00000000c0de"
    client_secret: str = "emulator-secret"
    mailboxes: list[str] = field(default_factory=list)
    mailboxes_without_teams: list[str] = field(default_factory=list)
    token_lifetime_seconds: int = 3599
    public_base_url: str = "http://127.0.0.1:8765"
    state_path: Path | None = None
    # Throttling (engineer B's middleware reads these).
    requests_per_window: int = 10000
    window_seconds: int = 600
    max_concurrent: int = 4
    # Paging.
    default_page_size: int = 10
    max_page_size: int = 1000
    delta_default_page_size: int = 10
    # GET /subscriptions answers in pages of this many (Graph documents no size; a client must
    # follow @odata.nextLink on any collection, and a firm's list can be long).
    subscriptions_page_size: int = 100
    # Graph refuses bodies over about 4 MB with 413 (calsync.emulator.request_size).
    max_request_bytes: int = 4 * 1024 * 1024
    # Optional, documented oddities of calendarView delta (GRAPH.md §3.2); off unless asked for.
    delta_empty_first_page: bool = False
    delta_duplicate_items: bool = False

    @property
    def graph_url(self) -> str:
        """The root that Graph paths such as `/users/{id}/events` hang off."""
        return self.public_base_url.rstrip("/") + "/v1.0"
