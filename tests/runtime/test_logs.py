"""Structured logs: the fields given with a log line come out as data."""

from __future__ import annotations

import json
import logging

from calsync.runtime.logs import JsonLineFormatter, KeyValueFormatter


def _record() -> logging.LogRecord:
    record = logging.makeLogRecord(
        {
            "name": "calsync.runtime",
            "levelno": logging.WARNING,
            "levelname": "WARNING",
            "msg": "pull of %s failed",
            "args": ("marcus.reyes@harborview.example",),
        }
    )
    record.mailbox = "marcus.reyes@harborview.example"
    record.code = "graph.throttled"
    return record


def test_json_lines_carry_the_message_and_the_fields() -> None:
    line = json.loads(JsonLineFormatter().format(_record()))
    assert line["message"] == "pull of marcus.reyes@harborview.example failed"
    assert line["level"] == "warning"
    assert line["mailbox"] == "marcus.reyes@harborview.example"
    assert line["code"] == "graph.throttled"


def test_text_lines_show_the_fields_as_key_value_pairs() -> None:
    text = KeyValueFormatter().format(_record())
    assert "WARNING" in text
    assert "[mailbox=marcus.reyes@harborview.example code=graph.throttled]" in text
