"""Reading and writing custom field values by field type.

Values are stored as canonical text (Number: a plain decimal, Date: YYYY-MM-DD, Checkbox:
"true"/"false", Email: the trimmed address) and read back as Python values (Decimal, date, bool,
str), so every type compares and sorts the same way on every database.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from calsync.crm.addresses import checked_email
from calsync.crm.errors import InvalidInputError
from calsync.crm.models import FieldType

CustomValue = str | Decimal | date | bool
MAX_TEXT_LENGTH = 10_000
MAX_NUMBER_LENGTH = 100


def _number(value: object, field: str) -> str:
    if isinstance(value, bool):
        raise InvalidInputError("must be a number, not true/false", field=field)
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInputError("must be a finite number", field=field)
    try:
        number = (
            Decimal(str(value).strip()) if isinstance(value, (str, int, float, Decimal)) else None
        )
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise InvalidInputError(f"'{value}' is not a number", field=field)
    # Plain notation without trailing zeros; not Decimal.normalize(), which rounds to 28 digits.
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    if len(text) > MAX_NUMBER_LENGTH:
        raise InvalidInputError(f"has more than {MAX_NUMBER_LENGTH} digits", field=field)
    return text


def _date(value: object, field: str) -> str:
    if isinstance(value, datetime):
        raise InvalidInputError("must be a date without a time", field=field)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise InvalidInputError(f"'{value}' is not a date (YYYY-MM-DD)", field=field)


def _checkbox(value: object, field: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower()
    raise InvalidInputError(f"'{value}' is not true or false", field=field)


def _text(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidInputError("must be text", field=field)
    if len(value) > MAX_TEXT_LENGTH:
        raise InvalidInputError(f"is longer than {MAX_TEXT_LENGTH} characters", field=field)
    return value


def _email(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidInputError("must be an email address", field=field)
    return checked_email(value, field)


_CANONICAL = {
    FieldType.TEXT: _text,
    FieldType.EMAIL: _email,
    FieldType.NUMBER: _number,
    FieldType.DATE: _date,
    FieldType.CHECKBOX: _checkbox,
}


def canonical_value(field_type: FieldType, value: object, field: str) -> str:
    """The stored text of `value` for a field of `field_type`; raises naming `field` if invalid."""
    return _CANONICAL[field_type](value, field)


def read_value(field_type: FieldType, stored: str) -> CustomValue:
    """A stored value as the Python value of its type."""
    if field_type is FieldType.NUMBER:
        return Decimal(stored)
    if field_type is FieldType.DATE:
        return date.fromisoformat(stored)
    if field_type is FieldType.CHECKBOX:
        return stored == "true"
    return stored
