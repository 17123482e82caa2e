"""Field types shared by the request bodies.

These limits keep inputs within what both databases can store (PostgreSQL refuses NUL characters
and over-long VARCHARs with an error we would otherwise answer with a 500); the business rules
themselves (valid email, known time zone, end after start …) are the CRM services' job.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

# Row ids are 32-bit on PostgreSQL (SERIAL); a larger number can name no record.
MAX_RECORD_ID = 2_147_483_647


def _refuse_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    return value


def _text(max_length: int, min_length: int = 0) -> tuple[StringConstraints, AfterValidator]:
    return StringConstraints(min_length=min_length, max_length=max_length), AfterValidator(
        _refuse_nul
    )


# One alias per column size of the CRM's tables.
Name = Annotated[str, *_text(200, min_length=1)]
OptionalName = Annotated[str, *_text(200)]
Email = Annotated[str, *_text(320)]
Phone = Annotated[str, *_text(50)]
Label = Annotated[str, *_text(100)]
Subject = Annotated[str, *_text(255)]
Location = Annotated[str, *_text(255)]
TimeZoneName = Annotated[str, *_text(64, min_length=1)]
FieldKey = Annotated[str, *_text(64, min_length=1)]
LongText = Annotated[str, *_text(20_000)]
Description = Annotated[str, *_text(100_000)]
RecurrenceRule = Annotated[str, *_text(500)]

RecordId = Annotated[int, Path(ge=1, le=MAX_RECORD_ID, description="The record's id.")]
ReferenceId = Annotated[int, Field(ge=1, le=MAX_RECORD_ID)]

# Far enough either way for any meeting, and far enough from datetime's limits that converting an
# instant between time zones can never overflow.
EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)


def _within_calendar_range(value: datetime | date) -> datetime | date:
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise ValueError(f"must be between {EARLIEST} and {LATEST}")
    return value


def _day_stays_a_day(value: object) -> object:
    # "2026-12-04" is a date (an all-day event's day), never midnight of that day: the CRM tells
    # the two apart to refuse a timed event without a time, or an all-day event with one.
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


Moment = Annotated[datetime, AfterValidator(_within_calendar_range)]
MomentOrDay = Annotated[
    datetime | date, BeforeValidator(_day_stays_a_day), AfterValidator(_within_calendar_range)
]
