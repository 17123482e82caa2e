"""The sync engine's state in the CRM database: links, cursors, outbox, runs and the sync log.

Importing this package registers the tables on the CRM's metadata and installs the outbox listener
(`outbox.install_outbox`), so any process that imports it announces its CRM event changes.
"""

from calsync.sync.storage.models import (
    CursorStatus,
    DeltaCursor,
    Direction,
    LinkOrigin,
    LogKind,
    OutboxEntry,
    OutboxKind,
    RunKind,
    RunStatus,
    SyncLinkRecord,
    SyncLogEntry,
    SyncRun,
)
from calsync.sync.storage.outbox import engine_writes, install_outbox

install_outbox()

__all__ = [
    "CursorStatus",
    "DeltaCursor",
    "Direction",
    "LinkOrigin",
    "LogKind",
    "OutboxEntry",
    "OutboxKind",
    "RunKind",
    "RunStatus",
    "SyncLinkRecord",
    "SyncLogEntry",
    "SyncRun",
    "engine_writes",
    "install_outbox",
]
