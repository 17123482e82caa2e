"""Shared test set-up: each part's reusable fixtures live in `tests/fixtures/`, listed here."""

import os

from hypothesis import settings

import calsync.sync.storage  # sync state tables (in the CRM migrations); the outbox listener
import calsync.workflows.models  # noqa: F401  (its tables are in the CRM migrations too)

pytest_plugins: list[str] = ["tests.fixtures.postgres", "tests.fixtures.emulator"]

# On CI (CI=true) property tests draw the same examples every run, so a landing is never decided by
# luck; developers' runs stay random and keep exploring (long runs: see each test's env variables).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    settings.load_profile("ci")
