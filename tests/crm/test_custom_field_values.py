"""Custom values are checked and stored by field type, and read back as Python values."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calsync.crm.errors import InvalidInputError
from calsync.crm.models import FieldType
from calsync.crm.services.custom_field_values import canonical_value, read_value


@pytest.mark.parametrize(
    ("field_type", "given_value", "stored", "read"),
    [
        (FieldType.TEXT, "Prefers mornings", "Prefers mornings", "Prefers mornings"),
        (
            FieldType.EMAIL,
            " Oliver@Hughes.example ",
            "Oliver@Hughes.example",
            "Oliver@Hughes.example",
        ),
        (FieldType.NUMBER, "1250.50", "1250.5", Decimal("1250.5")),
        (FieldType.NUMBER, 42, "42", Decimal(42)),
        (FieldType.NUMBER, "-0", "0", Decimal(0)),
        (FieldType.NUMBER, "1e3", "1000", Decimal(1000)),
        (FieldType.DATE, date(1961, 8, 4), "1961-08-04", date(1961, 8, 4)),
        (FieldType.DATE, " 2027-01-31 ", "2027-01-31", date(2027, 1, 31)),
        (FieldType.CHECKBOX, True, "true", True),
        (FieldType.CHECKBOX, "FALSE", "false", False),
    ],
)
def test_values_are_stored_canonically_and_read_back_typed(
    field_type: FieldType, given_value: object, stored: str, read: object
) -> None:
    assert canonical_value(field_type, given_value, "custom_fields.x") == stored
    assert read_value(field_type, stored) == read


@pytest.mark.parametrize(
    ("field_type", "bad_value"),
    [
        (FieldType.EMAIL, "oliver at hughes"),
        (FieldType.EMAIL, 12),
        (FieldType.NUMBER, "twelve"),
        (FieldType.NUMBER, True),
        (FieldType.NUMBER, float("nan")),
        (FieldType.NUMBER, "Infinity"),
        (FieldType.DATE, "31/01/2027"),
        (FieldType.DATE, datetime(2027, 1, 31, 9, 30)),
        (FieldType.CHECKBOX, "yes"),
        (FieldType.CHECKBOX, 1),
        (FieldType.TEXT, 7),
        (FieldType.TEXT, "x" * 10_001),
    ],
)
def test_values_of_the_wrong_type_are_refused_naming_the_field(
    field_type: FieldType, bad_value: object
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        canonical_value(field_type, bad_value, "custom_fields.risk_score")
    assert refused.value.field == "custom_fields.risk_score"


@settings(max_examples=60, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=4))
def test_any_finite_number_survives_storage(number: Decimal) -> None:
    stored = canonical_value(FieldType.NUMBER, number, "n")
    assert read_value(FieldType.NUMBER, stored) == number
    assert canonical_value(FieldType.NUMBER, stored, "n") == stored
