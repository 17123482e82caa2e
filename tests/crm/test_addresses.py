"""Email addresses and time zones are checked once, at the edge of every service."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calsync.crm.addresses import checked_email, normalize_email, optional_email
from calsync.crm.errors import InvalidInputError
from calsync.crm.time_zones import checked_time_zone


def test_addresses_are_kept_as_typed_but_compared_normalized() -> None:
    assert checked_email("  Oliver.Hughes@Example.COM ", "email") == "Oliver.Hughes@Example.COM"
    assert normalize_email("  Oliver.Hughes@Example.COM ") == "oliver.hughes@example.com"


@pytest.mark.parametrize(
    "value",
    [
        "oliver",
        "oliver@",
        "@example.com",
        "oli ver@example.com",
        "a@b@example.com",
        "x" * 330 + "@e.com",
    ],
)
def test_malformed_addresses_are_refused_naming_the_field(value: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        checked_email(value, "alternate_email")
    assert refused.value.field == "alternate_email"


def test_an_empty_optional_address_means_none() -> None:
    assert optional_email("   ", "email") is None
    assert optional_email(None, "email") is None


@settings(max_examples=50)
@given(st.emails())
def test_normalizing_is_idempotent_and_ignores_case_and_space(address: str) -> None:
    once = normalize_email(f"  {address.upper()}\t")
    assert once == normalize_email(once) == normalize_email(address.lower())


@pytest.mark.parametrize("name", ["", "  ", "Mars/Olympus", "Europe", "../../etc/passwd", "EST 5"])
def test_unknown_time_zones_are_refused(name: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        checked_time_zone(name)
    assert refused.value.field == "time_zone"


def test_known_time_zones_are_accepted_trimmed() -> None:
    assert checked_time_zone(" Asia/Kolkata ").key == "Asia/Kolkata"
