"""Field types shared by the request bodies.

These limits keep inputs within what both databases can store (PostgreSQL refuses NUL characters
and over-long VARCHARs with an error we would otherwise answer with a 500); the business rules
themselves (valid email, known time zone, end after start …) are the CRM services' job.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, StringConstraints

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

RecordId = Annotated[int, Path(ge=1, le=MAX_RECORD_ID, description="The record's id.")]
