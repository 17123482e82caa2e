"""A stateful stand-in for the calendar part of Microsoft Graph v1.0 and its token endpoint.

The emulator lets the demo, the tests and the benchmarks run CalSync against something that behaves
like Microsoft 365 (paging, delta rounds, recurrence, meeting copies, odd but documented behaviours)
without a tenant. It imports nothing of the product: it must stay an independent stand-in, so a bug
in our Graph client cannot hide behind the same bug in the emulator. See docs/emulator.md.
"""

from calsync.emulator.config import EmulatorConfig

__all__ = ["EmulatorConfig"]
