"""Attendees across the two sides: Graph attendees → CRM attendees (SPEC §3), and back (SPEC §2).

Matching against CRM records is a database query, so the runner does the lookup and passes its
result in (`matches`: normalised address → every record whose email, alternate email, Email-type
custom field or Contact Point Email equals it). The core decides what becomes of each address: every
matching record is an attendee, a User match is internal, an address that matches nothing stays as a
bare e-mail, the organizer counts, and nothing appears twice.

The reverse direction invites Individuals and Contacts at the `email` of their record and Users at
their mailbox; the runner passes those addresses in, so the core never has to know record layouts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from calsync.sync.errors import InvalidAttendee
from calsync.sync.fields import AttendeeKind, SyncedAttendee, normalize_address


class RecordKind(StrEnum):
    """The CRM records an attendee can be (SPEC §1)."""

    USER = "user"
    INDIVIDUAL = "individual"
    CONTACT = "contact"


@dataclass(frozen=True, slots=True)
class RecordRef:
    """A CRM record by kind and id, as the runner's address lookup returns it."""

    kind: RecordKind
    record_id: str


class AttendeeRole(StrEnum):
    """Graph's attendee `type`."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    RESOURCE = "resource"


@dataclass(frozen=True, slots=True)
class GraphAttendee:
    """An attendee as Graph lists it. `response` is Graph's lowerCamel response value."""

    address: str
    name: str = ""
    role: AttendeeRole = AttendeeRole.REQUIRED
    response: str = "none"


@dataclass(frozen=True, slots=True)
class CrmAttendee:
    """An attendee the CRM event should have: a record, or a bare address when nothing matches."""

    address: str
    record: RecordRef | None
    is_internal: bool
    is_organizer: bool = False
    response: str = "none"


@dataclass(frozen=True, slots=True)
class CrmInvitee:
    """A CRM event attendee to invite: the record and the address to invite it at.

    For an Individual or Contact the address is the `email` of the record (never an alternate one),
    for a User their mailbox, for a bare attendee its own address. None means the record has no
    e-mail.
    """

    record: RecordRef | None
    address: str | None


@dataclass(frozen=True, slots=True)
class GraphAttendeeList:
    """The Graph attendees to write, and the CRM attendees that could not be invited (no e-mail)."""

    attendees: tuple[GraphAttendee, ...]
    not_invited: tuple[RecordRef, ...]


def crm_attendees_from_graph(
    attendees: Sequence[GraphAttendee],
    organizer: str | None,
    matches: Mapping[str, Sequence[RecordRef]],
    *,
    owner_mailbox: str | None = None,
) -> tuple[CrmAttendee, ...]:
    """The CRM attendee list for an event arriving from Microsoft 365 (SPEC §3).

    The organizer comes first and counts as an attendee; then Graph's order. The owner of the CRM
    event (the mailbox the event was read from) is left out: it is the event's owner, not one of its
    guests. Each record appears once even when several of its addresses were invited; each unmatched
    address appears once whatever its case or surrounding space.
    """
    lookup = _normalised_lookup(matches) if matches else {}
    owner = _address(owner_mailbox, field_name="owner_mailbox") if owner_mailbox else None
    participants: list[tuple[str, bool, str]] = []
    if organizer and organizer.strip():
        participants.append((_address(organizer, field_name="organizer"), True, "organizer"))
    for attendee in attendees:
        if not attendee.address.strip():
            continue
        participants.append((_address(attendee.address), False, attendee.response))
    result: list[CrmAttendee] = []
    seen_records: set[RecordRef] = set()
    seen_addresses: set[str] = set()
    for address, is_organizer, response in participants:
        if address == owner or address in seen_addresses:
            continue
        seen_addresses.add(address)
        records = lookup.get(address, ())
        if not records:
            result.append(CrmAttendee(address, None, False, is_organizer, response))
            continue
        for record in records:
            if record in seen_records:
                continue
            seen_records.add(record)
            internal = record.kind is RecordKind.USER
            result.append(CrmAttendee(address, record, internal, is_organizer, response))
    return tuple(result)


def graph_attendees_from_crm(
    invitees: Iterable[CrmInvitee],
    *,
    organizer_mailbox: str,
    current: Sequence[GraphAttendee] = (),
) -> GraphAttendeeList:
    """The Graph attendee list for a CRM event (SPEC §2): one entry per address, organizer left out.

    `current` is the event's attendee list in Graph, if any: an address already there keeps its role
    and response, so re-sending the list never demotes a room to a required attendee.
    """
    organizer = _address(organizer_mailbox, field_name="organizer_mailbox")
    existing = {_address(attendee.address): attendee for attendee in current}
    chosen: list[GraphAttendee] = []
    not_invited: list[RecordRef] = []
    seen = {organizer}
    for invitee in invitees:
        if invitee.address is None or not invitee.address.strip():
            if invitee.record is None:
                raise InvalidAttendee("a bare attendee needs an e-mail address", field="attendees")
            not_invited.append(invitee.record)
            continue
        address = _address(invitee.address)
        if address in seen:
            continue
        seen.add(address)
        chosen.append(existing.get(address, GraphAttendee(address)))
    return GraphAttendeeList(tuple(chosen), tuple(not_invited))


def snapshot_attendees_from_graph(
    attendees: Sequence[GraphAttendee], organizer: str | None, mailbox: str
) -> frozenset[SyncedAttendee]:
    """The snapshot's attendees of a Graph event read from `mailbox`: everyone but the owner.

    On the organizer's copy that is the attendee list; on an attendee's copy it is the organizer
    plus the other attendees — the same set the CRM event of that attendee holds.
    """
    return snapshot_attendees_of_addresses(
        [attendee.address for attendee in attendees], organizer, mailbox
    )


def snapshot_attendees_of_addresses(
    addresses: Iterable[str], organizer: str | None, mailbox: str
) -> frozenset[SyncedAttendee]:
    """`snapshot_attendees_from_graph` from the attendees' raw addresses alone, which is all it
    reads: the pull builds each Graph event's snapshot from these without making a
    `GraphAttendee` per attendee first. Blank addresses are skipped."""
    owner = _address(mailbox, field_name="mailbox")
    wanted = [raw for raw in addresses if raw.strip()]
    if organizer and organizer.strip():
        wanted.append(organizer)
    return frozenset(
        _synced_attendee(address)
        for address in {_address(raw) for raw in wanted}
        if address != owner
    )


@lru_cache(maxsize=16_384)
def _synced_attendee(address: str) -> SyncedAttendee:
    """One shared, immutable `SyncedAttendee` per address, as a Graph event's snapshot has them
    (kind `EMAIL`): a round's events share most of their attendees."""
    return SyncedAttendee(address)


_KIND_OF_RECORD = {
    RecordKind.USER: AttendeeKind.USER,
    RecordKind.INDIVIDUAL: AttendeeKind.INDIVIDUAL,
    RecordKind.CONTACT: AttendeeKind.CONTACT,
}


def snapshot_attendees_from_crm(
    invitees: Iterable[CrmInvitee], owner_mailbox: str
) -> frozenset[SyncedAttendee]:
    """The snapshot's attendee set for a CRM event: the addresses it would invite, with their kinds.

    Built from the same rule as `graph_attendees_from_crm`, so a CRM event and its Graph copy agree
    after a push; records without an e-mail cannot be compared and are left out.
    """
    owner = _address(owner_mailbox, field_name="owner_mailbox")
    result: dict[str, SyncedAttendee] = {}
    for invitee in invitees:
        if invitee.address is None or not invitee.address.strip():
            continue
        address = _address(invitee.address)
        if address == owner or address in result:
            continue
        kind = _KIND_OF_RECORD[invitee.record.kind] if invitee.record else AttendeeKind.EMAIL
        result[address] = SyncedAttendee(address, kind)
    return frozenset(result.values())


def _normalised_lookup(
    matches: Mapping[str, Sequence[RecordRef]],
) -> dict[str, tuple[RecordRef, ...]]:
    lookup: dict[str, list[RecordRef]] = {}
    for raw, records in matches.items():
        bucket = lookup.setdefault(_address(raw, field_name="matches"), [])
        bucket.extend(record for record in records if record not in bucket)
    return {address: tuple(records) for address, records in lookup.items()}


def _address(raw: str, *, field_name: str = "attendees") -> str:
    """`normalize_address`, which remembers each accepted address (an import normalises each
    attendee's address several times on its way); a refused address names `field_name`."""
    return normalize_address(raw, field_name=field_name)
