"""Identifiers the emulator hands out: event ids in REST and immutable form, change keys, iCalUIds.

Graph ids are opaque, case-sensitive base64 strings. Inside the emulator every stored item has a
16-byte key; an occurrence of a series is addressed by its master's key plus its original start.
Both id forms encode the same key, so both resolve (GRAPH.md §2.6):

- the REST id (the default) carries the `AAMkAG` prefix and the calendar folder's number, so it
  is the form that would change if the item moved to another folder (the emulator has one
  calendar per mailbox and no move operation, so in practice it stays put);
- the immutable id (`Prefer: IdType="ImmutableId"`) carries the `AAkALg` prefix and only the key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import struct
from dataclasses import dataclass
from datetime import UTC, datetime

from calsync.emulator.errors import malformed_id

REST_PREFIX = "AAMkAG"
IMMUTABLE_PREFIX = "AAkALg"
_CALENDAR_FOLDER = b"\x01"
_ICAL_PREFIX = "040000008200E00074C5B7101A82E008"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ItemRef:
    """What an event id points at: a stored item, or one slot of a series (`original_start` set)."""

    key: str
    original_start: datetime | None = None


def new_key() -> str:
    return secrets.token_hex(16)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def encode_id(ref: ItemRef, immutable: bool = False) -> str:
    """The id string Graph would show for `ref`, in the form the request asked for."""
    raw = bytes.fromhex(ref.key)
    if ref.original_start is not None:
        seconds = int((ref.original_start - _EPOCH).total_seconds())
        raw += struct.pack(">q", seconds)
    if immutable:
        return IMMUTABLE_PREFIX + _b64(raw)
    return REST_PREFIX + _b64(_CALENDAR_FOLDER + raw)


def decode_id(value: str) -> ItemRef:
    """Parse either id form; anything that is not one gives 400 ErrorInvalidIdMalformed."""
    if value.startswith(IMMUTABLE_PREFIX):
        body, folder = value[len(IMMUTABLE_PREFIX) :], b""
    elif value.startswith(REST_PREFIX):
        body, folder = value[len(REST_PREFIX) :], _CALENDAR_FOLDER
    else:
        raise malformed_id(value)
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as exc:
        raise malformed_id(value) from exc
    if not raw.startswith(folder):
        raise malformed_id(value)
    raw = raw[len(folder) :]
    if len(raw) == 16:
        return ItemRef(raw.hex())
    if len(raw) == 24:
        (seconds,) = struct.unpack(">q", raw[16:])
        try:
            start = datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise malformed_id(value) from exc
        return ItemRef(raw[:16].hex(), start)
    raise malformed_id(value)


def new_change_key() -> str:
    return base64.b64encode(secrets.token_bytes(12)).decode("ascii")


def etag_for(change_key: str) -> str:
    """A weak ETag that changes with the change key but is not equal to it (GRAPH.md §1.1)."""
    digest = hashlib.sha256(("etag:" + change_key).encode()).digest()[:15]
    return 'W/"' + base64.b64encode(digest).decode("ascii") + '"'


def new_ical_uid() -> str:
    """An Exchange-shaped global object id: fixed class id, zero instance date, random part."""
    return _ICAL_PREFIX + "00000000" + "0" * 32 + "10000000" + secrets.token_hex(16).upper()


def occurrence_ical_uid(master_uid: str, original_start: datetime) -> str:
    """Exchange writes the occurrence's date into bytes 16–19 of the series' global object id."""
    day = original_start.date()
    stamp = f"{day.year:04X}{day.month:02X}{day.day:02X}"
    head = len(_ICAL_PREFIX)
    return master_uid[:head] + stamp + master_uid[head + 8 :]
