"""Meetings between mailboxes: invitations, attendee copies, updates, cancellations, responses.

When an organizer's event has attendees the emulator "sends" mail (GRAPH.md §5): an eventMessage in
the organizer's Sent Items, and for each attendee who is a mailbox of the emulated tenant a copy of
the event in their calendar (same iCalUId, own id, isOrganizer false, showAs tentative, response
notResponded) plus an eventMessage in their Inbox. Organizer changes overwrite the shared fields of
every copy (attendee edits to those fields are lost, as in Exchange); fields that belong to the
attendee (showAs, categories, reminders, their response) survive. A series edit also reaches the
exceptions in each attendee's copy by Exchange's override model (series_carry): what an exception
had not changed follows the series. Responses from an attendee update the organizer's attendee
list: for the whole meeting, or, answered through an occurrence's id, for that occurrence only
(it becomes an exception in both calendars).
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from calsync.emulator.ids import new_change_key, new_key, occurrence_ical_uid
from calsync.emulator.instances import (
    CalendarEntry,
    blocks_slot,
    discard_exceptions,
    entry_for_item,
    occurrence_at,
)
from calsync.emulator.payload import NULL_TIME
from calsync.emulator.render import html_to_text
from calsync.emulator.series_carry import carry_series_edit
from calsync.emulator.store import EmulatorStore, Mailbox, StoredItem
from calsync.emulator.timezones import format_utc_timestamp

MessageType = Literal[
    "meetingRequest",
    "meetingCancelled",
    "meetingAccepted",
    "meetingTenativelyAccepted",
    "meetingDeclined",
]
SHARED_FIELDS = (
    "subject",
    "body",
    "start",
    "end",
    "isAllDay",
    "location",
    "locations",
    "recurrence",
    "attendees",
    "organizer",
    "isOnlineMeeting",
    "onlineMeetingProvider",
    "onlineMeeting",
    "importance",
    "sensitivity",
    "isCancelled",
    "originalStartTimeZone",
    "originalEndTimeZone",
    "hideAttendees",
    "allowNewTimeProposals",
    "responseRequested",
)
NOTIFYING_FIELDS = (
    "subject",
    "body",
    "start",
    "end",
    "isAllDay",
    "location",
    "locations",
    "recurrence",
    "attendees",
    "isOnlineMeeting",
)
RESPONSES: dict[str, tuple[str, str, MessageType]] = {
    "accept": ("accepted", "busy", "meetingAccepted"),
    "tentativelyAccept": ("tentativelyAccepted", "tentative", "meetingTenativelyAccepted"),
    "decline": ("declined", "free", "meetingDeclined"),
}
FOLDER_SENT = "sentitems"
FOLDER_INBOX = "inbox"


def now_stamp() -> str:
    return format_utc_timestamp(datetime.now(UTC))


def is_meeting(data: dict[str, Any]) -> bool:
    return bool(data.get("isOrganizer")) and bool(data.get("attendees"))


def notifying_change(before: dict[str, Any] | None, after: dict[str, Any]) -> bool:
    """EMULATOR CHOICE (GRAPH.md §2.3): these fields changing on a meeting sends an update."""
    if before is None:
        return True
    return any(before.get(f) != after.get(f) for f in NOTIFYING_FIELDS)


def _recipient(mailbox_address: str, name: str) -> dict[str, Any]:
    return {"emailAddress": {"name": name, "address": mailbox_address}}


def _message(
    sender: dict[str, Any],
    to: list[dict[str, Any]],
    kind: MessageType,
    subject: str,
    event: dict[str, Any],
    event_type: str,
    comment: str = "",
) -> dict[str, Any]:
    stamp = now_stamp()
    content = comment or html_to_text(event["body"]["content"])
    return {
        "@odata.type": "#microsoft.graph.eventMessage",
        "id": "AAMkAGMsg" + uuid.uuid4().hex,
        "createdDateTime": stamp,
        "lastModifiedDateTime": stamp,
        "receivedDateTime": stamp,
        "sentDateTime": stamp,
        "subject": subject,
        "bodyPreview": content[:255],
        "body": {"contentType": "text", "content": content},
        "from": sender,
        "sender": sender,
        "toRecipients": to,
        "isRead": False,
        "meetingMessageType": kind,
        "startDateTime": copy.deepcopy(event["start"]),
        "endDateTime": copy.deepcopy(event["end"]),
        "location": copy.deepcopy(event["location"]),
        "isAllDay": event["isAllDay"],
        "type": event_type,
        "isOutOfDate": False,
        "isDelegated": False,
    }


class MeetingPost:
    """Delivers the mail and attendee copies that follow an organizer's or attendee's action."""

    def __init__(self, store: EmulatorStore) -> None:
        self.store = store

    # -- organizer side -----------------------------------------------------------------

    def _attendee_mailboxes(self, data: dict[str, Any], organizer: Mailbox) -> list[Mailbox]:
        result = []
        for attendee in data.get("attendees", []):
            mailbox = self.store.get_mailbox(attendee["emailAddress"]["address"])
            if mailbox is not None and mailbox.id != organizer.id:
                result.append(mailbox)
        return result

    def _copies(self, item: StoredItem) -> dict[str, StoredItem]:
        return {
            c.mailbox_id: c
            for c in self.store.find_by_ical_uid(item.ical_uid)
            if c.mailbox_id != item.mailbox_id and not c.data.get("isOrganizer")
        }

    def _send(
        self,
        organizer: Mailbox,
        data: dict[str, Any],
        kind: MessageType,
        event_type: str,
        recipients: list[dict[str, Any]],
        inbox_of: list[Mailbox],
        comment: str = "",
    ) -> None:
        prefix = "Canceled: " if kind == "meetingCancelled" else ""
        subject = prefix + data["subject"]
        sender = _recipient(organizer.address, organizer.display_name)
        to = [{"emailAddress": dict(a["emailAddress"])} for a in recipients]
        self.store.add_message(
            organizer.id,
            FOLDER_SENT,
            _message(sender, to, kind, subject, data, event_type, comment),
        )
        for mailbox in inbox_of:
            self.store.add_message(
                mailbox.id,
                FOLDER_INBOX,
                _message(sender, to, kind, subject, data, event_type, comment),
            )

    def organizer_saved(
        self, organizer: Mailbox, item: StoredItem, before: dict[str, Any] | None
    ) -> None:
        """After an organizer creates or changes a single event or series: update every copy."""
        data = item.data
        if not data.get("isOrganizer"):
            return
        previous_attendees = (before or {}).get("attendees", [])
        if not data.get("attendees") and not previous_attendees:
            return
        copies = self._copies(item)
        invited = self._attendee_mailboxes(data, organizer)
        invited_ids = {m.id for m in invited}
        changed = notifying_change(before, data)
        updated: list[Mailbox] = []
        for mailbox in invited:
            existing = copies.get(mailbox.id)
            if existing is None:
                self._create_copy(mailbox, item)
                updated.append(mailbox)
            elif changed:
                self._refresh_copy(existing, item, drop_exceptions=_series_reshaped(before, data))
                updated.append(mailbox)
        current_addresses = {a["emailAddress"]["address"].lower() for a in data["attendees"]}
        removed = [
            a
            for a in previous_attendees
            if a["emailAddress"]["address"].lower() not in current_addresses
        ]
        removed_mailboxes = [c for m_id, c in copies.items() if m_id not in invited_ids]
        for copy_item in removed_mailboxes:
            self._cancel_copy(copy_item)
        if changed and data["attendees"]:
            self._send(organizer, data, "meetingRequest", item.kind, data["attendees"], updated)
        if removed:
            gone = [
                m for m in (self.store.get_mailbox(c.mailbox_id) for c in removed_mailboxes) if m
            ]
            self._send(organizer, data, "meetingCancelled", item.kind, removed, gone)

    def organizer_cancelled(self, organizer: Mailbox, item: StoredItem, comment: str = "") -> None:
        """The organizer deleted or cancelled the whole meeting: copies are marked cancelled."""
        if not is_meeting(item.data):
            return
        copies = self._copies(item)
        for copy_item in copies.values():
            self._cancel_copy(copy_item)
        inbox = [m for m in (self.store.get_mailbox(i) for i in copies) if m is not None]
        self._send(
            organizer,
            item.data,
            "meetingCancelled",
            item.kind,
            item.data["attendees"],
            inbox,
            comment,
        )

    def organizer_slot_changed(
        self,
        organizer: Mailbox,
        master: StoredItem,
        original_start: datetime,
        exception: StoredItem | None,
        comment: str = "",
    ) -> None:
        """An occurrence was edited (`exception` set) or cancelled (`exception` None)."""
        if not is_meeting(master.data):
            return
        copies = self._copies(master)
        for copy_master in copies.values():
            slot = self.store.get_slot(copy_master.key, original_start)
            if exception is None:
                tomb = slot or StoredItem(
                    key=new_key(),
                    mailbox_id=copy_master.mailbox_id,
                    kind="exception",
                    ical_uid=copy_master.ical_uid,
                    start_utc=original_start,
                    end_utc=original_start,
                    data={},
                    master_key=copy_master.key,
                    original_start=original_start,
                )
                tomb.deleted = True
                tomb.data = {}
                self.store.save_item(tomb, "deleted")
                continue
            restored = slot is not None and slot.deleted
            live_slot = slot if slot is not None and not slot.deleted else None
            data = _shared_onto(exception.data, live_slot.data if live_slot else copy_master.data)
            data["recurrence"] = None
            if restored:
                # The attendee had deleted this occurrence: the organizer's update is a new
                # meeting request for it, which puts it back on their calendar, tentative and
                # not answered, as an update of a meeting does.
                data["showAs"] = "tentative"
                data["responseStatus"] = {"response": "notResponded", "time": NULL_TIME}
            self.store.save_item(
                StoredItem(
                    key=slot.key if slot else new_key(),
                    mailbox_id=copy_master.mailbox_id,
                    kind="exception",
                    ical_uid=occurrence_ical_uid(copy_master.ical_uid, original_start),
                    start_utc=exception.start_utc,
                    end_utc=exception.end_utc,
                    data=data,
                    master_key=copy_master.key,
                    original_start=original_start,
                ),
                "updated" if slot else "created",
            )
        inbox = [m for m in (self.store.get_mailbox(i) for i in copies) if m is not None]
        source = exception.data if exception is not None else master.data
        kind: MessageType = "meetingRequest" if exception is not None else "meetingCancelled"
        self._send(organizer, source, kind, "exception", master.data["attendees"], inbox, comment)

    def _create_copy(self, mailbox: Mailbox, item: StoredItem) -> None:
        stamp = now_stamp()
        data = _shared_onto(item.data, {})
        data.update(
            {
                "isOrganizer": False,
                "showAs": "tentative",
                "responseStatus": {"response": "notResponded", "time": NULL_TIME},
                "categories": [],
                "isReminderOn": True,
                "reminderMinutesBeforeStart": 15,
                "transactionId": None,
                "changeKey": new_change_key(),
                "createdDateTime": stamp,
                "lastModifiedDateTime": stamp,
            }
        )
        copy_master = self.store.save_item(
            StoredItem(
                key=new_key(),
                mailbox_id=mailbox.id,
                kind=item.kind,
                ical_uid=item.ical_uid,
                start_utc=item.start_utc,
                end_utc=item.end_utc,
                data=data,
            ),
            "created",
        )
        if item.kind == "seriesMaster":
            self._copy_slots(item, copy_master)

    def _copy_slots(self, organizer_master: StoredItem, copy_master: StoredItem) -> None:
        """An attendee added to a series that already has edited or cancelled occurrences gets
        them too (Outlook sends the series and then each exception): the edited ones as
        exceptions of their copy, the cancelled ones left out."""
        for slot in self.store.exceptions_of(organizer_master.key):
            if not blocks_slot(slot) or slot.original_start is None:
                continue
            if slot.deleted:
                data: dict[str, Any] = {}
            else:
                data = _shared_onto(slot.data, copy_master.data)
                data["recurrence"] = None
            self.store.save_item(
                StoredItem(
                    key=new_key(),
                    mailbox_id=copy_master.mailbox_id,
                    kind="exception",
                    ical_uid=occurrence_ical_uid(copy_master.ical_uid, slot.original_start),
                    start_utc=slot.start_utc,
                    end_utc=slot.end_utc,
                    data=data,
                    master_key=copy_master.key,
                    original_start=slot.original_start,
                    deleted=slot.deleted,
                ),
                "deleted" if slot.deleted else "created",
            )

    def _refresh_copy(self, copy_item: StoredItem, item: StoredItem, drop_exceptions: bool) -> None:
        """Overwrite the shared fields of an attendee's copy; a series' exceptions follow it in
        the fields they had not changed (series_carry), each saved as its own change."""
        if drop_exceptions:
            discard_exceptions(self.store, copy_item.key)
        if copy_item.kind == "seriesMaster":
            self.store.record_series_version(copy.deepcopy(copy_item))
        before = copy_item.data
        copy_item.data = _shared_onto(item.data, copy_item.data)
        copy_item.kind = item.kind
        copy_item.start_utc, copy_item.end_utc = item.start_utc, item.end_utc
        self.store.save_item(copy_item, "updated")
        if copy_item.kind == "seriesMaster" and not drop_exceptions:
            self._carry_to_exceptions(copy_item, before, SHARED_FIELDS)

    def _carry_to_exceptions(
        self, master: StoredItem, before: dict[str, Any], fields: tuple[str, ...]
    ) -> None:
        """`master` (an organizer's series or an attendee's copy) changed from `before`: its
        live exceptions follow in `fields` where they had not overridden them (series_carry)."""
        for slot in self.store.exceptions_of(master.key, include_deleted=False):
            data = carry_series_edit(before, master.data, slot.data, fields)
            if data is None:
                continue
            _touch(data)
            slot.data = data
            self.store.save_item(slot, "updated")

    def _cancel_copy(self, copy_item: StoredItem) -> None:
        """Mark an attendee's copy cancelled; a series' edited occurrences are cancelled too."""
        if copy_item.data.get("isCancelled"):
            return
        copy_item.data = _cancelled(copy_item.data)
        self.store.save_item(copy_item, "updated")
        if copy_item.kind != "seriesMaster":
            return
        for slot in self.store.exceptions_of(copy_item.key, include_deleted=False):
            if not slot.data.get("isCancelled"):
                slot.data = _cancelled(slot.data)
                self.store.save_item(slot, "updated")

    # -- attendee side ------------------------------------------------------------------

    def attendee_responded(
        self, attendee: Mailbox, item: StoredItem, action: str, comment: str, send: bool
    ) -> None:
        """Record an attendee's response to a whole meeting on their copy and on the organizer's
        attendee list; a series' exceptions follow unless they were answered on their own."""
        response, show_as, kind = RESPONSES[action]
        stamp = now_stamp()
        before = item.data
        data = copy.deepcopy(item.data)
        data["responseStatus"] = {"response": response, "time": stamp}
        data["showAs"] = show_as
        _touch(data)
        item.data = data
        self.store.save_item(item, "updated")
        if item.kind == "seriesMaster":
            self._carry_to_exceptions(item, before, ("responseStatus", "showAs"))
        for original in self._organizer_items(item):
            odata = copy.deepcopy(original.data)
            _set_attendee_status(odata, attendee, {"response": response, "time": stamp})
            _touch(odata)
            obefore, original.data = original.data, odata
            self.store.save_item(original, "updated")
            if original.kind == "seriesMaster":
                self._carry_to_exceptions(original, obefore, ("attendees",))
            if send:
                self._send_response(attendee, original, odata, kind, original.kind, comment)

    def attendee_responded_to_occurrence(
        self,
        attendee: Mailbox,
        copy_master: StoredItem,
        entry: CalendarEntry,
        action: str,
        comment: str,
        send: bool,
    ) -> None:
        """An attendee answered one occurrence: it becomes an exception in their copy, and the
        organizer's occurrence (made an exception too) shows that attendee's answer; the rest of
        the series and every other attendee's copy are left alone."""
        assert entry.original_start is not None
        response, show_as, kind = RESPONSES[action]
        stamp = now_stamp()
        data = copy.deepcopy(entry.data)
        data["responseStatus"] = {"response": response, "time": stamp}
        data["showAs"] = show_as
        data["recurrence"] = None
        _touch(data)
        self._save_exception(copy_master, entry, data)
        for organizer_master in self._organizer_items(copy_master):
            if organizer_master.kind != "seriesMaster":
                continue
            slot = self.store.get_slot(organizer_master.key, entry.original_start)
            if slot is not None and blocks_slot(slot):
                if slot.deleted:
                    continue  # the organizer cancelled that occurrence: nothing left to track
                target = entry_for_item(slot)
            else:
                found = occurrence_at(self.store, organizer_master, entry.original_start)
                if found is None:
                    continue
                target = found
            odata = copy.deepcopy(target.data)
            odata["recurrence"] = None
            _set_attendee_status(odata, attendee, {"response": response, "time": stamp})
            _touch(odata)
            self._save_exception(organizer_master, target, odata)
            if send:
                self._send_response(attendee, organizer_master, odata, kind, "exception", comment)

    def _save_exception(
        self, master: StoredItem, entry: CalendarEntry, data: dict[str, Any]
    ) -> None:
        """Store `data` as the exception in `entry`'s slot of `master` (reusing the slot's row
        when it has one, e.g. an exception or a discarded one), keeping the slot's times."""
        assert entry.original_start is not None
        existing = self.store.get_slot(master.key, entry.original_start)
        self.store.save_item(
            StoredItem(
                key=existing.key if existing else new_key(),
                mailbox_id=master.mailbox_id,
                kind="exception",
                ical_uid=occurrence_ical_uid(master.ical_uid, entry.original_start),
                start_utc=entry.start_utc,
                end_utc=entry.end_utc,
                data=data,
                master_key=master.key,
                original_start=entry.original_start,
            ),
            "updated" if existing is not None and not existing.deleted else "created",
        )

    def _organizer_items(self, item: StoredItem) -> list[StoredItem]:
        return [c for c in self.store.find_by_ical_uid(item.ical_uid) if c.data.get("isOrganizer")]

    def _send_response(
        self,
        attendee: Mailbox,
        original: StoredItem,
        odata: dict[str, Any],
        kind: MessageType,
        event_type: str,
        comment: str,
    ) -> None:
        """The response mail: in the organizer's Inbox and the attendee's Sent Items."""
        organizer = self.store.get_mailbox(original.mailbox_id)
        if organizer is None:
            return
        sender = _recipient(attendee.address, attendee.display_name)
        to = [_recipient(organizer.address, organizer.display_name)]
        subject = {
            "meetingAccepted": "Accepted: ",
            "meetingTenativelyAccepted": "Tentative: ",
            "meetingDeclined": "Declined: ",
        }[kind] + odata["subject"]
        self.store.add_message(
            organizer.id,
            FOLDER_INBOX,
            _message(sender, to, kind, subject, odata, event_type, comment),
        )
        self.store.add_message(
            attendee.id,
            FOLDER_SENT,
            _message(sender, to, kind, subject, odata, event_type, comment),
        )


def _set_attendee_status(data: dict[str, Any], attendee: Mailbox, status: dict[str, str]) -> None:
    for entry in data.get("attendees") or []:
        if entry["emailAddress"]["address"].lower() == attendee.address.lower():
            entry["status"] = dict(status)


def _cancelled(data: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(data)
    result["isCancelled"] = True
    result["subject"] = "Canceled: " + result["subject"]
    _touch(result)
    return result


def _series_reshaped(before: dict[str, Any] | None, after: dict[str, Any]) -> bool:
    if before is None:
        return False
    return any(before.get(f) != after.get(f) for f in ("start", "end", "recurrence", "isAllDay"))


def _shared_onto(source: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(target)
    for name in SHARED_FIELDS:
        if name in source:
            result[name] = copy.deepcopy(source[name])
    _touch(result)
    return result


def _touch(data: dict[str, Any]) -> None:
    """Every change gets a new change key and modification time (GRAPH.md §1.1)."""
    data["changeKey"] = new_change_key()
    data["lastModifiedDateTime"] = now_stamp()
    data.setdefault("createdDateTime", data["lastModifiedDateTime"])
