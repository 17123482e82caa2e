"""What the event form's *Add a person* costs as the firm grows, before and after the search box.

Before, `/events/new` rendered every Individual, Contact and staff user into a `<select>`: the page
loaded all of them and grew with the firm. Now the page lists nobody and the box asks
`GET /people/search` (one limited SQL query) as the user types. For a small and a large firm on
SQLite this prints, per request: the new event page (ms, KB), what the old list alone cost to load
and build (ms, KB of `<option>` markup; the old template is gone, so its rendering is not counted),
and a search as typed (ms, bytes). Ratios large/small show what grows with the firm. Each size
is measured in its own Python process, so the second does not pay for the first's leftovers.

Run: .venv/bin/python bench/bench_person_picker.py
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from html import escape
from pathlib import Path

from sqlalchemy.orm import Session

from calsync.crm.database import create_database_engine, create_session_factory
from calsync.crm.migrate import upgrade_database
from calsync.crm.models import Role
from calsync.crm.services.people import (
    ContactInput,
    IndividualInput,
    create_contact,
    create_individual,
    list_contacts,
    list_individuals,
)
from calsync.crm.services.users import create_user, list_users
from calsync.web import WebSettings, create_app
from calsync.web.passwords import hash_password

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SIZES = (500, 5_000)  # Individuals; half as many Contacts again
REPEATS = 30
PASSWORD = "bench password 1234"
FIRST_NAMES = ("Ada", "Grace", "Alan", "Katherine", "Edsger", "Barbara", "Donald", "Frances")


def _seed(session: Session, individuals: int) -> None:
    create_user(
        session,
        name="Bench Advisor",
        email="bench@northwind.example",
        time_zone="Europe/London",
        role=Role.STAFF,
        password_hash=hash_password(PASSWORD),
    )
    for number in range(individuals):
        first = FIRST_NAMES[number % len(FIRST_NAMES)]
        create_individual(
            session,
            IndividualInput(
                first_name=first,
                last_name=f"Client{number:05}",
                email=f"{first.lower()}.{number}@clients.example",
            ),
        )
    for number in range(individuals // 2):
        create_contact(
            session,
            ContactInput(
                first_name="Contact",
                last_name=f"Partner{number:05}",
                email=f"partner{number}@firm{number % 40}.example",
                organization_name=f"Firm {number % 40}",
            ),
        )
    session.commit()


def _old_people_options(session: Session) -> str:
    """What the old form did for its select: load everyone and write an option per person."""
    rows = [(f"individual:{p.id}", p.display_name, p.email) for p in list_individuals(session)]
    rows += [(f"contact:{p.id}", p.display_name, p.email) for p in list_contacts(session)]
    rows += [(f"user:{u.id}", u.name, u.email) for u in list_users(session)]
    return "".join(
        f'<option value="{token}">{escape(name)} &lt;{escape(email or "")}&gt;</option>'
        for token, name, email in rows
    )


def _per_call_ms(call: Callable[[], object]) -> float:
    call()
    started = time.perf_counter()
    for _ in range(REPEATS):
        call()
    return (time.perf_counter() - started) * 1000 / REPEATS


def _measure(folder: Path, individuals: int) -> dict[str, float]:
    url = f"sqlite:///{folder / f'bench-{individuals}.sqlite3'}"
    upgrade_database(url)
    engine = create_database_engine(url)
    sessions = create_session_factory(engine)
    with sessions() as session:
        _seed(session, individuals)
    with TestClient(create_app(WebSettings(database_url=url)), follow_redirects=False) as client:
        page = client.get("/signin").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        client.post(
            "/signin",
            data={
                "email": "bench@northwind.example",
                "password": PASSWORD,
                "csrf_token": token.group(1),
            },
        )
        new_page = client.get("/events/new")
        assert new_page.status_code == 200
        search = client.get("/people/search", params={"q": "grace cli"})
        assert search.status_code == 200
        assert search.json()["people"]
        with sessions() as session:
            old_markup = _old_people_options(session)
            old_ms = _per_call_ms(lambda: _old_people_options(session))
        figures = {
            "page_ms": _per_call_ms(lambda: client.get("/events/new")),
            "page_kb": len(new_page.content) / 1024,
            "old_list_ms": old_ms,
            "old_list_kb": len(old_markup.encode()) / 1024,
            "search_ms": _per_call_ms(
                lambda: client.get("/people/search", params={"q": "grace cli"})
            ),
            "search_bytes": float(len(search.content)),
        }
    engine.dispose()
    return figures


def _measure_in_own_process(size: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--size", str(size)], check=True, capture_output=True, text=True
    )
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    if sys.argv[1:2] == ["--size"]:
        with tempfile.TemporaryDirectory() as folder:
            print(json.dumps(_measure(Path(folder), int(sys.argv[2]))))
        return
    results = {size: _measure_in_own_process(size) for size in SIZES}
    print(
        f"{'people':>8} {'page ms':>8} {'page KB':>8} {'old list ms':>12} {'old list KB':>12}"
        f" {'search ms':>10} {'search B':>9}"
    )
    for size, figures in results.items():
        people = size + size // 2 + 1
        print(
            f"{people:>8} {figures['page_ms']:>8.1f} {figures['page_kb']:>8.1f}"
            f" {figures['old_list_ms']:>12.1f} {figures['old_list_kb']:>12.1f}"
            f" {figures['search_ms']:>10.1f} {figures['search_bytes']:>9.0f}"
        )
    small, large = (results[size] for size in SIZES)
    print(f"people ratio large/small: {(SIZES[1] * 1.5 + 1) / (SIZES[0] * 1.5 + 1):.1f}")
    for key in ("page_ms", "page_kb", "old_list_ms", "old_list_kb", "search_ms"):
        print(f"{key} ratio large/small: {large[key] / small[key]:.2f}")
    print(
        "large firm: old list alone / whole new page = "
        f"{large['old_list_ms'] / large['page_ms']:.1f}x time, "
        f"{(large['old_list_kb'] + large['page_kb']) / large['page_kb']:.1f}x bytes"
    )


if __name__ == "__main__":
    main()
