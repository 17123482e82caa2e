"""Shared test set-up: each part's reusable fixtures live in `tests/fixtures/`, listed here."""

import calsync.sync.storage  # sync state tables (in the CRM migrations); the outbox listener
import calsync.workflows.models  # noqa: F401  (its tables are in the CRM migrations too)

pytest_plugins: list[str] = ["tests.fixtures.postgres", "tests.fixtures.emulator"]
