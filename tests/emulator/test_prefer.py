"""The Prefer header: one header or several, quoted or not; bad values are refused."""

from __future__ import annotations

import pytest

from calsync.emulator.errors import GraphApiError
from calsync.emulator.prefer import parse_preferences


def test_comma_separated_and_repeated_headers_are_both_read() -> None:
    one = parse_preferences(
        ['outlook.timezone="Pacific Standard Time", odata.maxpagesize=50, IdType="ImmutableId"']
    )
    many = parse_preferences(
        ['outlook.timezone="Pacific Standard Time"', "odata.maxpagesize=50", 'IdType="ImmutableId"']
    )
    assert one == many
    assert (one.zone_name, one.max_page_size, one.immutable_ids) == (
        "Pacific Standard Time",
        50,
        True,
    )
    assert one.applied() == [
        'outlook.timezone="Pacific Standard Time"',
        "odata.maxpagesize=50",
        'IdType="ImmutableId"',
    ]


def test_no_header_means_utc_rest_ids_and_default_paging() -> None:
    prefs = parse_preferences([])
    assert (prefs.zone_name, prefs.max_page_size, prefs.immutable_ids) == (None, None, False)
    assert prefs.applied() == []


@pytest.mark.parametrize(
    "header",
    [
        'outlook.timezone="Nowhere/Special"',
        "odata.maxpagesize=0",
        "odata.maxpagesize=lots",
        'outlook.body-content-type="markdown"',
    ],
)
def test_bad_preferences_are_400(header: str) -> None:
    with pytest.raises(GraphApiError) as caught:
        parse_preferences([header])
    assert caught.value.status == 400
