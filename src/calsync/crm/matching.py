"""Attendee matching (SPEC §3): which Users, Individuals and Contacts an email address belongs to.

An address is compared trimmed and lower-cased against every email source of every record: the
`email` of Users, Individuals and Contacts, the `alternate_email` of Individuals and Contacts,
their custom fields of type Email, and their Contact Point Emails. All of them are kept in one
table, `email_index` (maintained by `services.email_index`), so a lookup is one indexed query
whatever the number of records.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from calsync.crm.addresses import normalize_email
from calsync.crm.models import EmailIndexEntry, EmailSource


class RecordKind(enum.StrEnum):
    """The kinds of records an attendee can be."""

    USER = "user"
    INDIVIDUAL = "individual"
    CONTACT = "contact"


_KIND_ORDER = {RecordKind.USER: 0, RecordKind.INDIVIDUAL: 1, RecordKind.CONTACT: 2}
_SOURCE_ORDER = list(EmailSource)


@dataclass(frozen=True)
class Match:
    """One record an address belongs to, and through which of its fields."""

    kind: RecordKind
    record_id: int
    email: str
    sources: tuple[EmailSource, ...]

    @property
    def is_internal(self) -> bool:
        """A User is staff: an attendee matching one is an internal attendee."""
        return self.kind is RecordKind.USER


def match_email(session: Session, address: str) -> list[Match]:
    """Every record `address` belongs to (Users first), one `Match` per record; [] for no match."""
    return match_emails(session, [address]).get(normalize_email(address), [])


def match_emails(session: Session, addresses: Iterable[str]) -> dict[str, list[Match]]:
    """`match_email` for many addresses in one query, keyed by the normalized addresses."""
    wanted = {normalize_email(address) for address in addresses} - {""}
    if not wanted:
        return {}
    rows = session.execute(
        select(
            EmailIndexEntry.email_normalized,
            EmailIndexEntry.source,
            EmailIndexEntry.user_id,
            EmailIndexEntry.individual_id,
            EmailIndexEntry.contact_id,
        ).where(EmailIndexEntry.email_normalized.in_(sorted(wanted)))
    )
    found: dict[str, dict[tuple[RecordKind, int], list[EmailSource]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for email, source, user_id, individual_id, contact_id in rows:
        if user_id is not None:
            key = (RecordKind.USER, user_id)
        elif individual_id is not None:
            key = (RecordKind.INDIVIDUAL, individual_id)
        elif contact_id is not None:
            key = (RecordKind.CONTACT, contact_id)
        else:  # the table's check constraint rules this out
            continue
        if source not in found[email][key]:
            found[email][key].append(source)
    result: dict[str, list[Match]] = {address: [] for address in wanted}
    for email, records in found.items():
        result[email] = [
            Match(
                kind=kind,
                record_id=record_id,
                email=email,
                sources=tuple(sorted(sources, key=_SOURCE_ORDER.index)),
            )
            for (kind, record_id), sources in sorted(
                records.items(), key=lambda item: (_KIND_ORDER[item[0][0]], item[0][1])
            )
        ]
    return result
