"""Checks every service shares: a record must exist, a text must be present and not too long."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from calsync.crm.errors import InvalidInputError, NotFoundError
from calsync.crm.models import Base

RecordT = TypeVar("RecordT", bound=Base)


def require(session: Session, model: type[RecordT], record_id: int, field: str) -> RecordT:
    """The `model` row with `record_id`; raises NotFoundError naming `field` when there is none."""
    record = session.get(model, record_id)
    if record is None:
        label = model.__name__.replace("ContactPointEmail", "Contact Point Email")
        raise NotFoundError(f"no {label} with id {record_id}", field=field)
    return record


class KnownRecords:
    """Records already read in this transaction, by model and id, for checks that name the same
    records again and again: an import checks hundreds of events of one owner inviting the same
    clients, and each `require` through the session's identity map cost more than the rest of an
    attendee's checks. A record not known yet is required from the session as usual (the same
    error when it does not exist) and remembered."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._rows: dict[tuple[type[Any], int], Any] = {}

    def remember(self, model: type[Any], rows: Iterable[Any]) -> None:
        """Know `rows` (instances of `model`, read in this transaction) by their ids."""
        for row in rows:
            self._rows[(model, row.id)] = row

    def require(self, model: type[RecordT], record_id: int, field: str) -> RecordT:
        """`require` for a known record without asking the session."""
        row: RecordT | None = self._rows.get((model, record_id))
        if row is None:
            row = self._rows[(model, record_id)] = require(self.session, model, record_id, field)
        return row


def required_text(value: str | None, field: str, max_length: int) -> str:
    """`value` trimmed; raises naming `field` when it is empty or too long."""
    text = (value or "").strip()
    if not text:
        raise InvalidInputError(f"{field.replace('_', ' ')} is required", field=field)
    return bounded_text(text, field, max_length)


def bounded_text(value: str | None, field: str, max_length: int) -> str:
    """`value` trimmed (empty when missing); raises naming `field` when it is too long."""
    text = (value or "").strip()
    if len(text) > max_length:
        raise InvalidInputError(
            f"{field.replace('_', ' ')} is longer than {max_length} characters", field=field
        )
    return text
