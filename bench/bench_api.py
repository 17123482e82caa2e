"""What an API request costs, in-process (no network), on the demo firm's SQLite database.

Seeds the demo data (`calsync.demo_data`), then times typical requests through the real app
(authentication, validation, services, serialisation) with Starlette's test client. Prints
milliseconds per request and each one's cost relative to the cheapest authenticated request
(`GET /users/me`), so the figures compare across machines. Then grows the CRM to 3,000 extra
Individuals and prints how the cost of one page of `GET /individuals` grows with the table:
the CRM's list service loads every row and the API slices the page, so this ratio is expected to
grow roughly with the number of people.

Run: .venv/bin/python bench/bench_api.py
"""

from __future__ import annotations

import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import date
from pathlib import Path

import httpx

from calsync.crm.database import create_database_engine, create_session_factory
from calsync.crm.migrate import upgrade_database
from calsync.crm.services.api_tokens import create_api_token
from calsync.crm.services.people import IndividualInput, create_individual
from calsync.demo_data import seed_demo_data
from calsync.web import WebSettings, create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

REPEATS = 200
EXTRA_PEOPLE = 3_000
TODAY = date(2026, 11, 26)


def _per_request_ms(send: Callable[[], httpx.Response], repeats: int = REPEATS) -> float:
    for _ in range(5):
        assert send().status_code < 400
    started = time.perf_counter()
    for _ in range(repeats):
        send()
    return (time.perf_counter() - started) * 1000 / repeats


def main() -> None:
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='calsync-bench-')) / 'api.sqlite3'}"
    upgrade_database(url)
    engine = create_database_engine(url)
    with create_session_factory(engine)() as session:
        admin = seed_demo_data(session, TODAY).admin
        token = create_api_token(session, admin.id, "bench").secret
        session.commit()
    app = create_app(WebSettings(database_url=url))
    headers = {"Authorization": f"Bearer {token}"}
    week = {"start": "2026-11-23T00:00:00Z", "end": "2026-11-30T00:00:00Z", "owner_id": 2}
    meeting = {
        "subject": "Bench meeting",
        "start": "2026-12-01T10:00:00",
        "end": "2026-12-01T11:00:00",
        "attendees": ["olivia.hartman@mail.example", {"contact_id": 1}],
    }
    with TestClient(app) as client:
        timings = {
            "GET /users/me": _per_request_ms(
                lambda: client.get("/api/v1/users/me", headers=headers)
            ),
            "GET /events (a week, one advisor)": _per_request_ms(
                lambda: client.get("/api/v1/events", params=week, headers=headers)
            ),
            "GET /events/{id}": _per_request_ms(
                lambda: client.get("/api/v1/events/1", headers=headers)
            ),
            "POST /events (2 attendees, 1 matched by address)": _per_request_ms(
                lambda: client.post("/api/v1/events", json=meeting, headers=headers)
            ),
            "GET /individuals (page of 50, 30 people)": _per_request_ms(
                lambda: client.get("/api/v1/individuals", headers=headers)
            ),
        }
        baseline = timings["GET /users/me"]
        print(f"API requests, in-process, SQLite, {REPEATS} each")
        for name, ms in timings.items():
            print(f"  {name:<52} {ms:7.2f} ms   {ms / baseline:5.1f}x GET /users/me")

        with create_session_factory(engine)() as session:
            for number in range(EXTRA_PEOPLE):
                create_individual(
                    session,
                    IndividualInput(
                        last_name=f"Client {number:05d}", email=f"c{number}@mail.example"
                    ),
                )
            session.commit()
        large = _per_request_ms(
            lambda: client.get("/api/v1/individuals", headers=headers), repeats=REPEATS // 4
        )
        small = timings["GET /individuals (page of 50, 30 people)"]
        name = f"GET /individuals (page of 50, {30 + EXTRA_PEOPLE} people)"
        print(f"  {name:<52} {large:7.2f} ms   {large / small:5.1f}x the same page with 30 people")
    engine.dispose()


if __name__ == "__main__":
    main()
