"""What both runners share: the clock, crash points for tests, and error messages for people."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from calsync.graph.errors import GraphError

Clock = Callable[[], datetime]
Checkpoint = Callable[[str], None]
"""Called between the writes of a run with the name of the point reached. Production passes a
no-op; the stateful test raises from it to simulate a crash at that exact point."""


def system_clock() -> datetime:
    return datetime.now(UTC)


def no_checkpoint(_point: str) -> None:
    return None


def graph_failure_message(error: GraphError) -> str:
    """What a person reads on the event when Microsoft 365 refused or could not be reached."""
    advice = {
        "graph.access_denied": "CalSync may not reach this mailbox; check the application access "
        "policy in Exchange Online.",
        "graph.throttled": "Microsoft 365 is throttling requests; it is retried automatically.",
        "graph.service_unavailable": "Microsoft 365 is unavailable; it is retried automatically.",
        "graph.connection_failed": "Microsoft 365 could not be reached; it is retried "
        "automatically.",
        "graph.validation_failed": "Microsoft 365 refused the event's data; correct the event.",
        "graph.unauthenticated": "CalSync's credentials were refused; check the Sync Settings.",
        "graph.token_failed": "CalSync's credentials were refused; check the Sync Settings.",
    }.get(error.code, "It is retried automatically.")
    return f"Microsoft 365 answered: {error} ({error.code}). {advice}"
