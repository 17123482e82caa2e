"""Checks every service shares: a record must exist, a text must be present and not too long."""

from __future__ import annotations

from typing import TypeVar

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
