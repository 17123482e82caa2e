"""Cursors are opaque: a cursor we hand out comes back as its position, anything else is refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calsync.web.errors import ApiError
from calsync.web.pagination import decode_cursor, encode_cursor


@settings(max_examples=50)
@given(st.integers(min_value=0, max_value=10_000_000))
def test_a_cursor_we_hand_out_comes_back_as_the_same_position(offset: int) -> None:
    assert decode_cursor(encode_cursor(offset)) == offset


@pytest.mark.parametrize(
    "forged",
    ["", "42", "not base64!", "bzotMQ", "eDox", "bzo5OTk5OTk5OTk5OTk5OQ", "bzrDr8K_wr0"],
)
def test_a_cursor_we_did_not_hand_out_is_refused_as_invalid_cursor(forged: str) -> None:
    with pytest.raises(ApiError) as refused:
        decode_cursor(forged)
    assert (refused.value.status, refused.value.code, refused.value.field) == (
        400,
        "invalid_cursor",
        "cursor",
    )


@settings(max_examples=100)
@given(st.text(max_size=64))
def test_any_text_as_a_cursor_is_either_a_position_or_invalid_cursor(text: str) -> None:
    outcome: int | str
    try:
        outcome = decode_cursor(text)
    except ApiError as refused:
        outcome = refused.code
    assert outcome == "invalid_cursor" or (isinstance(outcome, int) and outcome >= 0)
