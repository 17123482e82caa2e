"""Which of calendarView delta's documented oddities are on, globally and per mailbox.

Real Graph may send an empty first page that still has a nextLink [i7790] and may repeat items
within a round [dqo] (GRAPH.md §12 fact 3). The emulator shows them only when asked, so a test can
prove a client copes with them. The starting values come from `EmulatorConfig`
(`delta_empty_first_page`, `delta_duplicate_items`, read live); the control API overrides them at
run time for every mailbox or for one, and `clear()` (the control API's reset) drops the
overrides so the configuration rules again.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from calsync.emulator.config import EmulatorConfig

QUIRK_FIELDS = {"emptyFirstPage": "empty_first_page", "duplicateItems": "duplicate_items"}


class InvalidQuirkSettings(ValueError):
    """A control request named an unknown quirk or gave a value that is not true/false/null."""

    code = "invalidDeltaQuirks"


@dataclass(frozen=True)
class QuirkOverride:
    """Overrides of one scope; None leaves the quirk to the wider scope (or the config)."""

    empty_first_page: bool | None = None
    duplicate_items: bool | None = None

    @classmethod
    def from_json(cls, body: dict[str, object], current: QuirkOverride) -> QuirkOverride:
        """Fields left out keep `current`; null removes that override."""
        unknown = sorted(set(body) - set(QUIRK_FIELDS))
        if unknown:
            raise InvalidQuirkSettings(
                f"{unknown[0]}: unknown delta quirk; expected {sorted(QUIRK_FIELDS)}"
            )
        values = {attr: getattr(current, attr) for attr in QUIRK_FIELDS.values()}
        for name, attr in QUIRK_FIELDS.items():
            if name not in body:
                continue
            value = body[name]
            if value is not None and not isinstance(value, bool):
                raise InvalidQuirkSettings(f"{name}: must be true, false or null")
            values[attr] = value
        return cls(**values)

    def to_json(self) -> dict[str, bool | None]:
        return {name: getattr(self, attr) for name, attr in QUIRK_FIELDS.items()}


@dataclass(frozen=True)
class EffectiveQuirks:
    empty_first_page: bool
    duplicate_items: bool

    def to_json(self) -> dict[str, bool]:
        return {name: bool(getattr(self, attr)) for name, attr in QUIRK_FIELDS.items()}


class DeltaQuirks:
    """Thread-safe overrides: mailbox override, else global override, else the live config."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._global = QuirkOverride()
        self._mailboxes: dict[str, QuirkOverride] = {}

    def for_mailbox(self, mailbox_id: str) -> EffectiveQuirks:
        with self._lock:
            own = self._mailboxes.get(mailbox_id, QuirkOverride())
            wide = self._global

        def pick(attr: str, configured: bool) -> bool:
            for scope in (own, wide):
                value = getattr(scope, attr)
                if value is not None:
                    return bool(value)
            return configured

        return EffectiveQuirks(
            empty_first_page=pick("empty_first_page", self.config.delta_empty_first_page),
            duplicate_items=pick("duplicate_items", self.config.delta_duplicate_items),
        )

    def global_override(self) -> QuirkOverride:
        with self._lock:
            return self._global

    def mailbox_override(self, mailbox_id: str) -> QuirkOverride:
        with self._lock:
            return self._mailboxes.get(mailbox_id, QuirkOverride())

    def mailbox_overrides(self) -> dict[str, QuirkOverride]:
        with self._lock:
            return dict(self._mailboxes)

    def set_global(self, override: QuirkOverride) -> None:
        with self._lock:
            self._global = override

    def set_mailbox(self, mailbox_id: str, override: QuirkOverride) -> None:
        with self._lock:
            if override == QuirkOverride():
                self._mailboxes.pop(mailbox_id, None)
            else:
                self._mailboxes[mailbox_id] = override

    def clear_mailbox(self, mailbox_id: str) -> None:
        with self._lock:
            self._mailboxes.pop(mailbox_id, None)

    def clear(self) -> None:
        with self._lock:
            self._global = QuirkOverride()
            self._mailboxes.clear()
