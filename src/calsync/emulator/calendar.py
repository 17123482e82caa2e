"""The calendar of each emulated mailbox: create, read, update, delete, cancel and respond.

This is the behaviour behind the `/users/{id}/events…` routes, free of HTTP: it takes parsed
bodies, enforces Graph's rules (GRAPH.md §1, §2, §4, §6) and writes through the store, which
numbers every change for delta and tells the listeners.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from calsync.emulator.errors import GraphApiError, invalid_request, item_not_found
from calsync.emulator.ids import decode_id, etag_for, new_change_key, new_ical_uid, new_key
from calsync.emulator.instances import (
    CalendarEntry,
    blocks_slot,
    discard_exceptions,
    entry_for_item,
    occurrence_at,
    series_rule_and_zone,
)
from calsync.emulator.meetings import MeetingPost, is_meeting, now_stamp
from calsync.emulator.online_meetings import apply_online_meeting
from calsync.emulator.payload import apply_fields, default_fields, stored_time
from calsync.emulator.recurrence import last_start, normalize_recurrence
from calsync.emulator.series_carry import carry_series_edit
from calsync.emulator.store import MAX_TIME, EmulatorStore, Mailbox, StoredItem
from calsync.emulator.timezones import resolve_zone


def user_not_found(user: str) -> GraphApiError:
    return GraphApiError(404, "ErrorInvalidUser", f"The requested user '{user}' is invalid.")


def precondition_failed() -> GraphApiError:
    return GraphApiError(
        412,
        "ErrorIrresolvableConflict",
        "The send or update operation could not be performed because the change key passed in the "
        "request does not match the current change key for the item.",
    )


@dataclass(frozen=True)
class CreateResult:
    entry: CalendarEntry
    replayed: bool


class MailboxCalendar:
    """Calendar operations across the emulated mailboxes."""

    def __init__(self, store: EmulatorStore) -> None:
        self.store = store
        self.post = MeetingPost(store)

    # -- lookups ------------------------------------------------------------------------

    def mailbox(self, user: str) -> Mailbox:
        mailbox = self.store.get_mailbox(user)
        if mailbox is None:
            raise user_not_found(user)
        return mailbox

    def entry(self, mailbox: Mailbox, event_id: str) -> CalendarEntry:
        """The event an id names in this mailbox (either id form; occurrences included)."""
        ref = decode_id(event_id)
        if ref.original_start is None:
            item = self.store.get_item(ref.key)
            if item is None or item.deleted or item.mailbox_id != mailbox.id:
                raise item_not_found()
            return entry_for_item(item)
        master = self.store.get_item(ref.key)
        if master is None or master.deleted or master.mailbox_id != mailbox.id:
            raise item_not_found()
        if master.kind != "seriesMaster":
            raise item_not_found()
        slot = self.store.get_slot(master.key, ref.original_start)
        if slot is not None and blocks_slot(slot):
            if slot.deleted:
                raise item_not_found()
            return entry_for_item(slot)
        occurrence = occurrence_at(self.store, master, ref.original_start)
        if occurrence is None:
            raise item_not_found()
        return occurrence

    # -- create -------------------------------------------------------------------------

    def create(self, mailbox: Mailbox, body: Any) -> CreateResult:
        """POST /events; a repeated transactionId gives back the first event (GRAPH.md §6)."""
        data = apply_fields(default_fields(), body, creating=True)
        transaction_id = data.get("transactionId")
        if transaction_id:
            existing = self.store.find_by_transaction(mailbox.id, transaction_id)
            if existing is not None:
                return CreateResult(entry_for_item(existing), replayed=True)
        stamp = now_stamp()
        data.update(
            {
                "isOrganizer": True,
                "organizer": {
                    "emailAddress": {"name": mailbox.display_name, "address": mailbox.address}
                },
                "responseStatus": {"response": "organizer", "time": "0001-01-01T00:00:00Z"},
                "createdDateTime": stamp,
                "lastModifiedDateTime": stamp,
                "changeKey": new_change_key(),
            }
        )
        self._finish(mailbox, data, previous=None)
        item = StoredItem(
            key=new_key(),
            mailbox_id=mailbox.id,
            kind="seriesMaster" if data["recurrence"] else "singleInstance",
            ical_uid=new_ical_uid(),
            start_utc=MAX_TIME,
            end_utc=MAX_TIME,
            data=data,
            transaction_id=transaction_id,
        )
        _set_span(item)
        with self.store.transaction():
            self.store.save_item(item, "created")
            self.post.organizer_saved(mailbox, item, before=None)
        return CreateResult(entry_for_item(item), replayed=False)

    def _finish(
        self, mailbox: Mailbox, data: dict[str, Any], previous: dict[str, Any] | None
    ) -> None:
        """Cross-field rules, recurrence normalisation and the Teams meeting, in place."""
        if "start" not in data:
            raise invalid_request("start is required.")
        if "end" not in data:
            raise invalid_request("end is required.")
        start, end = stored_time(data, "start"), stored_time(data, "end")
        if data["isAllDay"]:
            if start.local.time() != datetime.min.time() or end.local.time() != datetime.min.time():
                raise invalid_request(
                    "An all-day event must start and end at midnight (00:00:00) in its time zone."
                )
            if start.zone_name != end.zone_name:
                raise invalid_request(
                    "An all-day event must use the same time zone in start and end."
                )
            if end.local.date() <= start.local.date():
                raise invalid_request("An all-day event must end at least one day after it starts.")
        if end.utc < start.utc:
            raise invalid_request("end must not be before start.")
        if data.get("recurrence") is not None:
            data["recurrence"] = normalize_recurrence(data["recurrence"], start.local.date())
        data["originalStartTimeZone"] = start.zone_name
        data["originalEndTimeZone"] = end.zone_name
        apply_online_meeting(mailbox, data, previous)

    # -- update -------------------------------------------------------------------------

    def _check_etag(self, data: dict[str, Any], if_match: str | None) -> None:
        if if_match is None or if_match.strip() == "*":
            return
        current = etag_for(str(data["changeKey"]))
        offered = [v.strip() for v in if_match.split(",")]
        if current not in offered and str(data["changeKey"]) not in offered:
            raise precondition_failed()

    def update(
        self, mailbox: Mailbox, event_id: str, body: Any, if_match: str | None
    ) -> CalendarEntry:
        """PATCH an event, series or occurrence (an edited occurrence becomes an exception)."""
        entry = self.entry(mailbox, event_id)
        self._check_etag(entry.data, if_match)
        before = entry.data
        data = apply_fields(before, body, creating=False)
        if entry.type in ("occurrence", "exception"):
            data["recurrence"] = None
            if isinstance(body, dict) and body.get("recurrence") is not None:
                raise invalid_request("recurrence can only be set on a series master.")
        if entry.type == "seriesMaster" and data.get("recurrence") is None:
            raise invalid_request("recurrence cannot be removed from a series; delete it instead.")
        if entry.type == "singleInstance" and data.get("recurrence") is not None:
            raise invalid_request(
                "recurrence cannot be added to an existing single event; create a series instead."
            )
        if not data["isOrganizer"]:
            # Attendee edits touch their own copy only; meeting fields stay the organizer's.
            for name in ("attendees", "recurrence"):
                data[name] = copy.deepcopy(before.get(name))
        self._finish(mailbox, data, previous=before)
        data["changeKey"] = new_change_key()
        data["lastModifiedDateTime"] = now_stamp()
        with self.store.transaction():
            if entry.type in ("occurrence", "exception"):
                return self._save_slot(mailbox, entry, data)
            item = entry.item
            reshaped = item.kind == "seriesMaster" and _reshaped(before, data)
            if item.kind == "seriesMaster":
                self.store.record_series_version(copy.deepcopy(item))
                if reshaped:
                    discard_exceptions(self.store, item.key)
            item.data = data
            _set_span(item)
            self.store.save_item(item, "updated")
            if item.kind == "seriesMaster" and not reshaped:
                self._carry_to_exceptions(item, before, data)
            self.post.organizer_saved(mailbox, item, before)
        return entry_for_item(item)

    def _carry_to_exceptions(
        self, master: StoredItem, before: dict[str, Any], after: dict[str, Any]
    ) -> None:
        """A series edit reaches its edited occurrences too, each as its own change (GRAPH.md
        §1.2: one notice for the series plus one per edited instance). A field the occurrence
        changed on its own keeps the occurrence's value (series_carry)."""
        for slot in self.store.exceptions_of(master.key, include_deleted=False):
            data = carry_series_edit(before, after, slot.data)
            if data is None:
                continue
            data["changeKey"] = new_change_key()
            data["lastModifiedDateTime"] = after["lastModifiedDateTime"]
            slot.data = data
            self.store.save_item(slot, "updated")

    def _save_slot(
        self, mailbox: Mailbox, entry: CalendarEntry, data: dict[str, Any]
    ) -> CalendarEntry:
        master = entry.item if entry.type == "occurrence" else self._master_of(entry)
        assert entry.original_start is not None
        self._check_boundaries(master, entry.original_start, data)
        existing = (
            entry.item
            if entry.type == "exception"
            else self.store.get_slot(master.key, entry.original_start)
        )
        start, end = stored_time(data, "start"), stored_time(data, "end")
        item = StoredItem(
            key=existing.key if existing else new_key(),
            mailbox_id=mailbox.id,
            kind="exception",
            ical_uid=entry.ical_uid,
            start_utc=start.utc,
            end_utc=end.utc,
            data=data,
            master_key=master.key,
            original_start=entry.original_start,
        )
        self.store.save_item(item, "updated" if existing else "created")
        if master.data.get("isOrganizer"):
            self.post.organizer_slot_changed(mailbox, master, entry.original_start, item)
        return entry_for_item(item)

    def _master_of(self, entry: CalendarEntry) -> StoredItem:
        assert entry.master_ref is not None
        master = self.store.get_item(entry.master_ref.key)
        if master is None or master.deleted:
            raise item_not_found()
        return master

    def _check_boundaries(
        self, master: StoredItem, original: datetime, data: dict[str, Any]
    ) -> None:
        """400 ErrorOccurrenceCrossingBoundary when a moved occurrence reaches a neighbour's day."""
        rule, zone_name = series_rule_and_zone(master)
        zone = resolve_zone(zone_name)
        slot = original.astimezone(zone).replace(tzinfo=None)
        previous = rule.before(slot)
        following = rule.after(slot)
        new_day = stored_time(data, "start").utc.astimezone(zone).date()
        if (following is not None and new_day >= following.date()) or (
            previous is not None and new_day <= previous.date()
        ):
            raise GraphApiError(
                400,
                "ErrorOccurrenceCrossingBoundary",
                "An occurrence can't be moved onto or past the day of an adjacent occurrence.",
            )

    # -- delete and cancel --------------------------------------------------------------

    def delete(self, mailbox: Mailbox, event_id: str, if_match: str | None) -> None:
        """DELETE: an organizer's meeting sends attendees a cancellation (GRAPH.md §2.4)."""
        entry = self.entry(mailbox, event_id)
        self._check_etag(entry.data, if_match)
        self._remove(mailbox, entry, comment="")

    def cancel(self, mailbox: Mailbox, event_id: str, comment: str) -> None:
        """POST …/cancel: organizer only; removes the event and tells the attendees."""
        entry = self.entry(mailbox, event_id)
        if not entry.data.get("isOrganizer"):
            raise GraphApiError(
                400,
                "ErrorInvalidRequest",
                "Your request can't be completed. You need to be an organizer to cancel a meeting.",
            )
        self._remove(mailbox, entry, comment)

    def _remove(self, mailbox: Mailbox, entry: CalendarEntry, comment: str) -> None:
        with self.store.transaction():
            if entry.type in ("occurrence", "exception"):
                master = entry.item if entry.type == "occurrence" else self._master_of(entry)
                assert entry.original_start is not None
                tomb = (
                    entry.item
                    if entry.type == "exception"
                    else self.store.get_slot(master.key, entry.original_start)
                )
                if tomb is None:
                    tomb = StoredItem(
                        key=new_key(),
                        mailbox_id=mailbox.id,
                        kind="exception",
                        ical_uid=entry.ical_uid,
                        start_utc=entry.start_utc,
                        end_utc=entry.end_utc,
                        data={},
                        master_key=master.key,
                        original_start=entry.original_start,
                    )
                tomb.deleted = True
                tomb.data = {}
                self.store.save_item(tomb, "deleted")
                if master.data.get("isOrganizer"):
                    self.post.organizer_slot_changed(
                        mailbox, master, entry.original_start, None, comment
                    )
                return
            item = entry.item
            if item.kind == "seriesMaster":
                self.store.record_series_version(copy.deepcopy(item))
                for slot in self.store.exceptions_of(item.key, include_deleted=False):
                    slot.deleted = True
                    self.store.save_item(slot, "deleted")
            item.deleted = True
            self.store.save_item(item, "deleted")
            if is_meeting(item.data):
                self.post.organizer_cancelled(mailbox, item, comment)

    # -- attendee responses -------------------------------------------------------------

    def respond(
        self, mailbox: Mailbox, event_id: str, action: str, comment: str, send_response: bool
    ) -> None:
        """accept / tentativelyAccept / decline on an attendee's copy.

        An occurrence's id answers that occurrence only: it becomes an exception in the
        attendee's copy and the organizer sees the answer on that occurrence alone (Exchange
        tracks answers per exception: MS-OXOCAL's recipExceptionalResponse). A series' id or a
        single event's id answers the whole meeting.
        """
        entry = self.entry(mailbox, event_id)
        if entry.type in ("occurrence", "exception"):
            master = entry.item if entry.type == "occurrence" else self._master_of(entry)
            if master.data.get("isOrganizer"):
                raise invalid_request("You can't respond to a meeting you organize.")
            with self.store.transaction():
                self.post.attendee_responded_to_occurrence(
                    mailbox, master, entry, action, comment, send_response
                )
            return
        item = entry.item
        if item.data.get("isOrganizer"):
            raise invalid_request("You can't respond to a meeting you organize.")
        with self.store.transaction():
            self.post.attendee_responded(mailbox, item, action, comment, send_response)

    # -- lists --------------------------------------------------------------------------

    def top_level(self, mailbox: Mailbox) -> list[CalendarEntry]:
        return [entry_for_item(i) for i in self.store.top_level_items(mailbox.id)]

    def series_master(self, mailbox: Mailbox, event_id: str) -> StoredItem:
        entry = self.entry(mailbox, event_id)
        if entry.type != "seriesMaster":
            raise invalid_request("instances is only available on a series master.")
        return entry.item


def _reshaped(before: dict[str, Any], after: dict[str, Any]) -> bool:
    return any(before.get(f) != after.get(f) for f in ("start", "end", "recurrence", "isAllDay"))


def _set_span(item: StoredItem) -> None:
    """Index columns: an event's own span, or for a series from its start to its last end."""
    start, end = stored_time(item.data, "start"), stored_time(item.data, "end")
    item.start_utc, item.end_utc = start.utc, end.utc
    if item.kind != "seriesMaster":
        return
    rule, zone_name = series_rule_and_zone(item)
    last = last_start(rule, item.data["recurrence"])
    if last is None:
        item.end_utc = MAX_TIME if item.data["recurrence"]["range"]["type"] == "noEnd" else end.utc
        return
    zone = resolve_zone(zone_name)
    item.end_utc = max(
        end.utc, last.replace(tzinfo=zone).astimezone(start.utc.tzinfo) + (end.utc - start.utc)
    )
