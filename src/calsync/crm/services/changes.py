"""The marker partial updates use for "leave this field as it is"."""

from __future__ import annotations


class Unchanged:
    """Type of UNCHANGED; a separate marker because None is a real value for many fields."""

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = Unchanged()
