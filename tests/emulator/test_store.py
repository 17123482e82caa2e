"""The store API other parts build on: mailboxes, change notices, token expiry, reset, the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from calsync.emulator.calendar import MailboxCalendar
from calsync.emulator.ids import decode_id, encode_id
from calsync.emulator.store import ChangeNotice, EmulatorStore

MEETING = {
    "subject": "Pipeline review",
    "start": {"dateTime": "2024-06-10T09:00:00", "timeZone": "UTC"},
    "end": {"dateTime": "2024-06-10T10:00:00", "timeZone": "UTC"},
}


def test_mailboxes_resolve_by_guid_and_case_insensitive_address() -> None:
    store = EmulatorStore()
    mailbox = store.add_mailbox("Adele.Vance@contoso.com", "Adele Vance")
    assert store.get_mailbox("adele.vance@CONTOSO.com") == mailbox
    assert store.get_mailbox(mailbox.id) == mailbox
    assert store.add_mailbox("adele.vance@contoso.com") == mailbox
    assert store.get_mailbox("nobody@contoso.com") is None
    assert mailbox.display_name == "Adele Vance"
    assert store.set_can_host_teams(mailbox.id, False).can_host_teams is False
    assert store.get_mailbox(mailbox.id).can_host_teams is False  # type: ignore[union-attr]


def test_listeners_hear_every_committed_change_including_attendee_copies() -> None:
    store = EmulatorStore()
    adele = store.add_mailbox("adele@contoso.com")
    megan = store.add_mailbox("megan@contoso.com")
    heard: list[ChangeNotice] = []
    store.add_listener(heard.append)
    calendar = MailboxCalendar(store)
    body = {**MEETING, "attendees": [{"emailAddress": {"address": "megan@contoso.com"}}]}
    created = calendar.create(adele, body)
    assert [(n.mailbox_address, n.change_type) for n in heard] == [
        ("adele@contoso.com", "created"),
        ("megan@contoso.com", "created"),
    ]
    assert heard[0].event_id == encode_id(created.entry.ref)
    assert (heard[0].etag or "").startswith('W/"')
    assert heard[1].mailbox_id == megan.id
    heard.clear()
    calendar.delete(adele, encode_id(created.entry.ref), None)
    assert ("adele@contoso.com", "deleted") in [(n.mailbox_address, n.change_type) for n in heard]
    assert all(n.etag is None for n in heard if n.change_type == "deleted")


def test_a_failed_write_notifies_nobody_and_leaves_nothing() -> None:
    store = EmulatorStore()
    adele = store.add_mailbox("adele@contoso.com")
    heard: list[ChangeNotice] = []
    store.add_listener(heard.append)

    def create_then_crash() -> None:
        with store.transaction():
            MailboxCalendar(store).create(adele, MEETING)
            raise RuntimeError("crash mid-transaction")

    with pytest.raises(RuntimeError):
        create_then_crash()
    assert heard == []
    assert store.top_level_items(adele.id) == []


def test_a_listener_that_raises_does_not_break_the_write() -> None:
    store = EmulatorStore()
    adele = store.add_mailbox("adele@contoso.com")

    def broken(notice: ChangeNotice) -> None:
        raise ValueError("subscriber bug")

    store.add_listener(broken)
    MailboxCalendar(store).create(adele, MEETING)
    assert len(store.top_level_items(adele.id)) == 1


def test_expiring_delta_tokens_bumps_only_that_mailboxs_generation() -> None:
    store = EmulatorStore()
    adele = store.add_mailbox("adele@contoso.com")
    megan = store.add_mailbox("megan@contoso.com")
    store.expire_delta_tokens("ADELE@contoso.com")
    assert (store.generation(adele.id), store.generation(megan.id)) == (1, 0)
    store.expire_delta_tokens()
    assert (store.generation(adele.id), store.generation(megan.id)) == (2, 1)
    with pytest.raises(KeyError):
        store.expire_delta_tokens("nobody@contoso.com")


def test_reset_forgets_events_but_keeps_mailboxes() -> None:
    store = EmulatorStore()
    adele = store.add_mailbox("adele@contoso.com")
    MailboxCalendar(store).create(adele, MEETING)
    store.reset()
    assert store.top_level_items(adele.id) == []
    assert store.get_mailbox(adele.id) == adele
    assert store.generation(adele.id) == 1


def test_a_state_file_keeps_events_sequence_and_token_secret(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    store = EmulatorStore(path)
    adele = store.add_mailbox("adele@contoso.com")
    created = MailboxCalendar(store).create(adele, MEETING)
    seq, secret = store.current_seq, store.token_secret
    store.close()
    reopened = EmulatorStore(path)
    assert reopened.current_seq == seq
    assert reopened.token_secret == secret
    (item,) = reopened.top_level_items(adele.id)
    assert item.ref == decode_id(encode_id(created.entry.ref))
