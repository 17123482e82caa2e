"""Shared test set-up. Each part's reusable fixtures live in `tests/fixtures/` and are listed here."""

pytest_plugins: list[str] = ["tests.fixtures.postgres"]
