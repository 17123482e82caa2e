"""Event ids: both forms decode to the same item, occurrences carry their slot, junk is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calsync.emulator.errors import GraphApiError
from calsync.emulator.ids import (
    IMMUTABLE_PREFIX,
    REST_PREFIX,
    ItemRef,
    decode_id,
    encode_id,
    new_ical_uid,
    new_key,
    occurrence_ical_uid,
)


@settings(max_examples=50)
@given(
    st.one_of(
        st.none(),
        st.datetimes(datetime(1990, 1, 1), datetime(2100, 1, 1)).map(
            lambda d: d.replace(microsecond=0, tzinfo=UTC)
        ),
    )
)
def test_both_id_forms_round_trip(original_start: datetime | None) -> None:
    ref = ItemRef(new_key(), original_start)
    rest, immutable = encode_id(ref), encode_id(ref, immutable=True)
    assert rest.startswith(REST_PREFIX)
    assert immutable.startswith(IMMUTABLE_PREFIX)
    assert rest != immutable
    assert decode_id(rest) == decode_id(immutable) == ref


@pytest.mark.parametrize(
    "value", ["", "123", "AAMkAG", "AAMkAG!!!", "AAkALgAAAA", "AAMkAG" + "A" * 30]
)
def test_junk_ids_are_malformed(value: str) -> None:
    with pytest.raises(GraphApiError) as caught:
        decode_id(value)
    assert (caught.value.status, caught.value.code) == (400, "ErrorInvalidIdMalformed")


def test_occurrence_ical_uid_carries_the_date_and_keeps_the_series_part() -> None:
    series = new_ical_uid()
    occurrence = occurrence_ical_uid(series, datetime(2024, 9, 16, 7, tzinfo=UTC))
    assert occurrence[32:40] == "07E80910"
    assert occurrence[:32] == series[:32]
    assert occurrence[40:] == series[40:]
    assert series[32:40] == "00000000"
