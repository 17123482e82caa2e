"""The emulator's state: mailboxes, calendar items, tombstones, mail folders, in one SQLite file.

SQLite keeps the whole state queryable by the columns the API filters on (mailbox, UTC start and
end, kind, series master, iCalUId, transactionId) with the rest of each item as JSON. It runs in
memory by default and in a file with `--state FILE`, so a restarted emulator loses nothing.

Every write takes the next value of one global change sequence number. Deleted items stay as
tombstones, so a delta round is "items whose sequence number is above the token's". Expiring delta
tokens bumps a per-mailbox generation that the tokens carry.

Listeners (engineer B's change notifications) receive a `ChangeNotice` after each committed change.
Change-notification subscriptions are kept here too (as JSON records the subscription service
writes and reads), so a restarted `--state` emulator still knows and notifies them.
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from calsync.emulator.ids import ItemRef, encode_id, etag_for
from calsync.emulator.payload import default_fields

log = logging.getLogger(__name__)

ChangeType = Literal["created", "updated", "deleted"]
ItemKind = Literal["singleInstance", "seriesMaster", "exception"]

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
MIN_TIME = datetime(1, 1, 1, tzinfo=UTC)
MAX_TIME = datetime(9999, 12, 31, tzinfo=UTC)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mailboxes (
    id TEXT PRIMARY KEY,
    address TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name TEXT NOT NULL,
    calendar_id TEXT NOT NULL,
    can_host_teams INTEGER NOT NULL,
    generation INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS items (
    key TEXT PRIMARY KEY,
    mailbox_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    master_key TEXT,
    original_start TEXT,
    ical_uid TEXT NOT NULL,
    transaction_id TEXT,
    start_utc TEXT NOT NULL,
    end_utc TEXT NOT NULL,
    seq INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS items_by_seq ON items (mailbox_id, seq);
CREATE INDEX IF NOT EXISTS items_by_time ON items (mailbox_id, kind, start_utc);
CREATE INDEX IF NOT EXISTS items_by_master ON items (master_key, original_start);
CREATE INDEX IF NOT EXISTS items_by_uid ON items (ical_uid);
CREATE INDEX IF NOT EXISTS items_by_transaction ON items (mailbox_id, transaction_id);
CREATE TABLE IF NOT EXISTS series_history (
    master_key TEXT NOT NULL,
    replaced_seq INTEGER NOT NULL,
    item TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_master ON series_history (master_key, replaced_seq);
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    mailbox_id TEXT NOT NULL,
    folder TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_folder ON messages (mailbox_id, folder);
CREATE TABLE IF NOT EXISTS subscriptions (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
"""


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime(_TIME_FORMAT)


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Mailbox:
    """One emulated user with a default calendar."""

    id: str
    address: str
    display_name: str
    calendar_id: str
    can_host_teams: bool


@dataclass(frozen=True)
class ChangeNotice:
    """A committed change of one event in one mailbox, as change notifications need it."""

    mailbox_id: str
    mailbox_address: str
    event_id: str
    change_type: ChangeType
    etag: str | None


@dataclass
class StoredItem:
    """A calendar item as stored: indexed columns plus the Graph-shaped fields in `data`.

    `kind` is `singleInstance`, `seriesMaster` or `exception`. Plain occurrences are never stored;
    they are expanded from their master. A cancelled or deleted occurrence is an `exception`
    tombstone, so expansion leaves its slot out. For a master, start/end span the whole series.
    """

    key: str
    mailbox_id: str
    kind: ItemKind
    ical_uid: str
    start_utc: datetime
    end_utc: datetime
    data: dict[str, Any]
    master_key: str | None = None
    original_start: datetime | None = None
    transaction_id: str | None = None
    deleted: bool = False
    seq: int = 0

    @property
    def ref(self) -> ItemRef:
        """How an id addresses this item: exceptions are addressed as their series slot."""
        if self.kind == "exception" and self.master_key is not None:
            return ItemRef(self.master_key, self.original_start)
        return ItemRef(self.key)

    def to_json(self) -> str:
        return json.dumps(
            {
                "key": self.key,
                "mailbox_id": self.mailbox_id,
                "kind": self.kind,
                "ical_uid": self.ical_uid,
                "start_utc": format_time(self.start_utc),
                "end_utc": format_time(self.end_utc),
                "data": self.data,
                "master_key": self.master_key,
                "original_start": _opt_time(self.original_start),
                "transaction_id": self.transaction_id,
                "deleted": self.deleted,
                "seq": self.seq,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> StoredItem:
        raw = json.loads(text)
        return cls(
            key=raw["key"],
            mailbox_id=raw["mailbox_id"],
            kind=raw["kind"],
            ical_uid=raw["ical_uid"],
            start_utc=parse_time(raw["start_utc"]),
            end_utc=parse_time(raw["end_utc"]),
            data=raw["data"],
            master_key=raw["master_key"],
            original_start=_parse_opt_time(raw["original_start"]),
            transaction_id=raw["transaction_id"],
            deleted=raw["deleted"],
            seq=raw["seq"],
        )


def _opt_time(value: datetime | None) -> str | None:
    return None if value is None else format_time(value)


def _parse_opt_time(value: str | None) -> datetime | None:
    return None if value is None else parse_time(value)


Listener = Callable[[ChangeNotice], None]

_ITEM_COLUMNS = (
    "key, mailbox_id, kind, master_key, original_start, ical_uid, transaction_id, "
    "start_utc, end_utc, seq, deleted, data"
)


def _row_to_item(row: sqlite3.Row) -> StoredItem:
    return StoredItem(
        key=row["key"],
        mailbox_id=row["mailbox_id"],
        kind=row["kind"],
        master_key=row["master_key"],
        original_start=_parse_opt_time(row["original_start"]),
        ical_uid=row["ical_uid"],
        transaction_id=row["transaction_id"],
        start_utc=parse_time(row["start_utc"]),
        end_utc=parse_time(row["end_utc"]),
        seq=row["seq"],
        deleted=bool(row["deleted"]),
        data=_expand_data(row["data"]),
    )


_DEFAULTS = default_fields()
_DEFAULTS_JSON = json.dumps(_DEFAULTS)


def _compact_data(data: dict[str, Any]) -> str:
    """JSON of an item without the fields that still hold Graph's defaults (a third of a typical
    event), so 100,000 events take less memory; `_expand_data` puts them back."""
    missing = object()
    kept = {k: v for k, v in data.items() if _DEFAULTS.get(k, missing) != v}
    return json.dumps(kept, separators=(",", ":"))


def _expand_data(text: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_DEFAULTS_JSON)
    data.update(json.loads(text))
    return data


@dataclass
class _Transaction:
    notices: list[ChangeNotice] = field(default_factory=list)


class EmulatorStore:
    """Thread-safe SQLite store; `path=None` keeps everything in memory."""

    def __init__(self, path: Path | None = None) -> None:
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            ":memory:" if path is None else str(path), check_same_thread=False, isolation_level=None
        )
        self._db.row_factory = sqlite3.Row
        if path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._listeners: list[Listener] = []
        self._tx: _Transaction | None = None
        self._seq = int(self._meta("seq") or 0)
        secret = self._meta("token_secret")
        if secret is None:
            secret = secrets.token_hex(32)
            self._set_meta("token_secret", secret)
        self.token_secret = bytes.fromhex(secret)

    # -- plumbing -------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _meta(self, name: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row["value"])

    def _set_meta(self, name: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO meta (name, value) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together; listeners hear about them only after the commit."""
        with self._lock:
            if self._tx is not None:
                yield
                return
            self._tx = _Transaction()
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                self._seq = int(self._meta("seq") or 0)
                self._tx = None
                raise
            self._set_meta("seq", str(self._seq))
            self._db.execute("COMMIT")
            notices, self._tx = self._tx.notices, None
        for notice in notices:
            for listener in list(self._listeners):
                try:
                    listener(notice)
                except Exception:
                    log.exception("change listener failed for %s", notice)

    def add_listener(self, callback: Listener) -> None:
        """Call `callback` with a ChangeNotice after every committed event change."""
        self._listeners.append(callback)

    def remove_listener(self, callback: Listener) -> None:
        self._listeners.remove(callback)

    @property
    def current_seq(self) -> int:
        with self._lock:
            return self._seq

    # -- mailboxes ------------------------------------------------------------------------

    def add_mailbox(
        self, address: str, display_name: str | None = None, *, can_host_teams: bool = True
    ) -> Mailbox:
        """Create a mailbox (or return the existing one with that address)."""
        existing = self.get_mailbox(address)
        if existing is not None:
            return existing
        local = address.split("@", 1)[0]
        name = display_name or local.replace(".", " ").title()
        mailbox = Mailbox(str(uuid.uuid4()), address, name, new_calendar_id(), can_host_teams)
        with self._lock:
            self._db.execute(
                "INSERT INTO mailboxes (id, address, display_name, calendar_id, can_host_teams) "
                "VALUES (?, ?, ?, ?, ?)",
                (mailbox.id, address, name, mailbox.calendar_id, int(can_host_teams)),
            )
        return mailbox

    def get_mailbox(self, id_or_address: str) -> Mailbox | None:
        """Look a mailbox up by GUID or by address (case-insensitive)."""
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM mailboxes WHERE id = ? OR address = ? COLLATE NOCASE",
                (id_or_address, id_or_address),
            ).fetchone()
        if row is None:
            return None
        return Mailbox(
            row["id"],
            row["address"],
            row["display_name"],
            row["calendar_id"],
            bool(row["can_host_teams"]),
        )

    def list_mailboxes(self) -> list[Mailbox]:
        with self._lock:
            rows = self._db.execute("SELECT id FROM mailboxes ORDER BY rowid").fetchall()
        return [m for m in (self.get_mailbox(r["id"]) for r in rows) if m is not None]

    def set_can_host_teams(self, id_or_address: str, allowed: bool) -> Mailbox:
        """Model an unlicensed or consumer mailbox: Teams creates then silently come back off."""
        mailbox = self.get_mailbox(id_or_address)
        if mailbox is None:
            raise KeyError(id_or_address)
        with self._lock:
            self._db.execute(
                "UPDATE mailboxes SET can_host_teams = ? WHERE id = ?", (int(allowed), mailbox.id)
            )
        return replace(mailbox, can_host_teams=allowed)

    def generation(self, mailbox_id: str) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT generation FROM mailboxes WHERE id = ?", (mailbox_id,)
            ).fetchone()
        return -1 if row is None else int(row["generation"])

    def expire_delta_tokens(self, mailbox: str | None = None) -> None:
        """Make outstanding delta and skip tokens of one mailbox (or all) answer 410."""
        with self._lock:
            if mailbox is None:
                self._db.execute("UPDATE mailboxes SET generation = generation + 1")
                return
            found = self.get_mailbox(mailbox)
            if found is None:
                raise KeyError(mailbox)
            self._db.execute(
                "UPDATE mailboxes SET generation = generation + 1 WHERE id = ?", (found.id,)
            )

    def reset(self) -> None:
        """Forget every event and message (mailboxes stay); outstanding delta tokens expire."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            for table in ("items", "series_history", "messages"):
                self._db.execute(f"DELETE FROM {table}")
            self._db.execute("UPDATE mailboxes SET generation = generation + 1")
            self._seq += 1  # anything cached against the old sequence number is stale now
            self._set_meta("seq", str(self._seq))
            self._db.execute("COMMIT")

    # -- calendar items -------------------------------------------------------------------

    def save_item(self, item: StoredItem, change_type: ChangeType) -> StoredItem:
        """Insert or update `item` with the next sequence number; queue a ChangeNotice."""
        with self._lock, self.transaction():
            self._seq += 1
            item.seq = self._seq
            self._db.execute(
                f"INSERT INTO items ({_ITEM_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT(key) DO UPDATE SET kind=excluded.kind, master_key=excluded.master_key,"
                " original_start=excluded.original_start, ical_uid=excluded.ical_uid,"
                " transaction_id=excluded.transaction_id, start_utc=excluded.start_utc,"
                " end_utc=excluded.end_utc, seq=excluded.seq, deleted=excluded.deleted,"
                " data=excluded.data",
                (
                    item.key,
                    item.mailbox_id,
                    item.kind,
                    item.master_key,
                    _opt_time(item.original_start),
                    item.ical_uid,
                    item.transaction_id,
                    format_time(item.start_utc),
                    format_time(item.end_utc),
                    item.seq,
                    int(item.deleted),
                    _compact_data(item.data),
                ),
            )
            self._queue_notice(item, change_type)
        return item

    def _queue_notice(self, item: StoredItem, change_type: ChangeType) -> None:
        assert self._tx is not None
        mailbox = self.get_mailbox(item.mailbox_id)
        change_key = item.data.get("changeKey")
        self._tx.notices.append(
            ChangeNotice(
                mailbox_id=item.mailbox_id,
                mailbox_address=mailbox.address if mailbox else "",
                event_id=encode_id(item.ref),
                change_type=change_type,
                etag=None if change_type == "deleted" or not change_key else etag_for(change_key),
            )
        )

    def record_series_version(self, previous: StoredItem) -> None:
        """Keep the version of a series being replaced, so delta can name occurrences it loses."""
        with self._lock:
            self._db.execute(
                "INSERT INTO series_history (master_key, replaced_seq, item) VALUES (?, ?, ?)",
                (previous.key, self._seq + 1, previous.to_json()),
            )

    def series_versions_since(self, master_key: str, seq: int) -> list[StoredItem]:
        with self._lock:
            rows = self._db.execute(
                "SELECT item FROM series_history WHERE master_key = ? AND replaced_seq > ?",
                (master_key, seq),
            ).fetchall()
        return [StoredItem.from_json(r["item"]) for r in rows]

    def get_item(self, key: str) -> StoredItem | None:
        return self._one(f"SELECT {_ITEM_COLUMNS} FROM items WHERE key = ?", (key,))

    def get_slot(self, master_key: str, original_start: datetime) -> StoredItem | None:
        """The exception or tombstone stored for one slot of a series, if any."""
        return self._one(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE master_key = ? AND original_start = ?",
            (master_key, format_time(original_start)),
        )

    def find_by_transaction(self, mailbox_id: str, transaction_id: str) -> StoredItem | None:
        return self._one(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE mailbox_id = ? AND transaction_id = ?"
            " AND deleted = 0",
            (mailbox_id, transaction_id),
        )

    def find_by_ical_uid(self, ical_uid: str) -> list[StoredItem]:
        """Live series masters and single items sharing a global object id (meeting copies)."""
        return self._many(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE ical_uid = ? AND deleted = 0"
            " AND kind != 'exception'",
            (ical_uid,),
        )

    def exceptions_of(self, master_key: str, include_deleted: bool = True) -> list[StoredItem]:
        sql = f"SELECT {_ITEM_COLUMNS} FROM items WHERE master_key = ?"
        if not include_deleted:
            sql += " AND deleted = 0"
        return self._many(sql + " ORDER BY original_start", (master_key,))

    def top_level_items(self, mailbox_id: str) -> list[StoredItem]:
        """Live single instances and series masters, in creation order (what /events lists)."""
        return self._many(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE mailbox_id = ? AND deleted = 0"
            " AND kind != 'exception' ORDER BY rowid",
            (mailbox_id,),
        )

    def items_overlapping(
        self, mailbox_id: str, kinds: tuple[ItemKind, ...], start: datetime, end: datetime
    ) -> list[StoredItem]:
        """Live items of `kinds` with start < end and end > start (masters: the whole series)."""
        marks = ",".join("?" for _ in kinds)
        return self._many(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE mailbox_id = ? AND deleted = 0"
            f" AND kind IN ({marks}) AND start_utc < ? AND end_utc > ?",
            (mailbox_id, *kinds, format_time(end), format_time(start)),
        )

    def items_changed_since(self, mailbox_id: str, seq: int) -> list[StoredItem]:
        return self._many(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE mailbox_id = ? AND seq > ? ORDER BY seq",
            (mailbox_id, seq),
        )

    def _one(self, sql: str, args: tuple[Any, ...]) -> StoredItem | None:
        with self._lock:
            row = self._db.execute(sql, args).fetchone()
        return None if row is None else _row_to_item(row)

    def _many(self, sql: str, args: tuple[Any, ...]) -> list[StoredItem]:
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [_row_to_item(r) for r in rows]

    # -- mail folders ---------------------------------------------------------------------

    def add_message(self, mailbox_id: str, folder: str, message: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO messages (id, mailbox_id, folder, data) VALUES (?, ?, ?, ?)",
                (message["id"], mailbox_id, folder, json.dumps(message)),
            )

    def list_messages(self, mailbox_id: str, folder: str) -> list[dict[str, Any]]:
        """Messages of one well-known folder, newest first (as Outlook lists them)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT data FROM messages WHERE mailbox_id = ? AND folder = ? ORDER BY rowid DESC",
                (mailbox_id, folder),
            ).fetchall()
        return [json.loads(r["data"]) for r in rows]

    # -- change-notification subscriptions ---------------------------------------------

    def save_subscription(self, subscription_id: str, record: dict[str, Any]) -> None:
        """Insert or replace one subscription's record (its JSON form, see subscriptions.py)."""
        with self._lock:
            self._db.execute(
                "INSERT INTO subscriptions (id, data) VALUES (?, ?) "
                "ON CONFLICT(id) DO UPDATE SET data = excluded.data",
                (subscription_id, json.dumps(record)),
            )

    def delete_subscription(self, subscription_id: str) -> bool:
        """Forget one subscription; False when there was none with that id."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM subscriptions WHERE id = ?", (subscription_id,))
        return cursor.rowcount > 0

    def load_subscriptions(self) -> list[dict[str, Any]]:
        """Every stored subscription record, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT data FROM subscriptions ORDER BY rowid").fetchall()
        return [json.loads(r["data"]) for r in rows]

    def clear_subscriptions(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM subscriptions")


def new_calendar_id() -> str:
    return "AAMkAGCal" + secrets.token_urlsafe(24)
