"""The Microsoft Graph v1.0 client for calendars: the only code in CalSync that speaks HTTP to
Graph.

Public surface (see docs/graph-client.md): ``GraphClient`` and ``GraphSettings``; the models
``Event``, ``DeltaPage`` and friends; ``EventDraft`` / ``DraftAttendee`` for writes and the write
operations for batches; the ``GraphError`` hierarchy.
"""

from calsync.graph.client import GraphClient, WriteOutcome
from calsync.graph.delta import DeltaRound, DeltaRoundIncomplete
from calsync.graph.drafts import DraftAttendee, EventDraft
from calsync.graph.errors import (
    AccessDenied,
    ConfigurationInvalid,
    Conflict,
    DependencyFailed,
    GraphConnectionError,
    GraphError,
    InvalidArgument,
    InvalidEventDraft,
    InvalidResponse,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    ResyncRequired,
    ServiceUnavailable,
    Throttled,
    TokenAcquisitionFailed,
    Unauthenticated,
    UnknownTimeZone,
    ValidationFailed,
)
from calsync.graph.models import (
    Attendee,
    Calendar,
    DateTimeTimeZone,
    DeltaPage,
    Event,
    EventTimes,
    PatternedRecurrence,
    Subscription,
)
from calsync.graph.settings import CertificateCredential, GraphSettings
from calsync.graph.writes import CancelEvent, CreateEvent, DeleteEvent, UpdateEvent, WriteOperation

__all__ = [
    "AccessDenied",
    "Attendee",
    "Calendar",
    "CancelEvent",
    "CertificateCredential",
    "ConfigurationInvalid",
    "Conflict",
    "CreateEvent",
    "DateTimeTimeZone",
    "DeleteEvent",
    "DeltaPage",
    "DeltaRound",
    "DeltaRoundIncomplete",
    "DependencyFailed",
    "DraftAttendee",
    "Event",
    "EventDraft",
    "EventTimes",
    "GraphClient",
    "GraphConnectionError",
    "GraphError",
    "GraphSettings",
    "InvalidArgument",
    "InvalidEventDraft",
    "InvalidResponse",
    "NotFound",
    "PatternedRecurrence",
    "PayloadTooLarge",
    "PreconditionFailed",
    "ResyncRequired",
    "ServiceUnavailable",
    "Subscription",
    "Throttled",
    "TokenAcquisitionFailed",
    "Unauthenticated",
    "UnknownTimeZone",
    "UpdateEvent",
    "ValidationFailed",
    "WriteOperation",
    "WriteOutcome",
]
