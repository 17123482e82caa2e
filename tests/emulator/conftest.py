"""Fixtures of the emulator tests (the emulator itself comes from tests/fixtures/emulator.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulator.webhook_receiver import Receiver, serve_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on loopback that records what the emulator sends it."""
    with serve_receiver() as running:
        yield running
