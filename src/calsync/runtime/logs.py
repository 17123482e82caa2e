"""Structured logs of the sync service: one line per event, with its fields as data.

`CALSYNC_LOG_FORMAT=json` writes JSON lines (`{"at", "level", "logger", "message", …fields}`) for
a log collector; the default is the same fields as `key=value` text for a person at a terminal.
Fields come from `extra=` (`mailbox`, `code`, `pushed`, …). Only the `calsync` loggers are
configured, only if nothing configured them before, and they still propagate (pytest and an
embedding application see them too).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

LOG_FORMAT_VARIABLE = "CALSYNC_LOG_FORMAT"

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in vars(record).items() if key not in _STANDARD}


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **fields_of(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        pairs = " ".join(f"{key}={value}" for key, value in fields_of(record).items())
        text = f"{stamp} {record.levelname:<7} {record.name}: {record.getMessage()}"
        if pairs:
            text += f" [{pairs}]"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def configure_logging(environ: dict[str, str] | None = None) -> None:
    """Send the `calsync` loggers' INFO and above to stderr in the configured format."""
    logger = logging.getLogger("calsync")
    if logger.handlers:
        return
    env = os.environ if environ is None else environ
    handler = logging.StreamHandler(sys.stderr)
    if env.get(LOG_FORMAT_VARIABLE, "").strip().lower() == "json":
        handler.setFormatter(JsonLineFormatter())
    else:
        handler.setFormatter(KeyValueFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
