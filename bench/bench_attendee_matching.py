"""How attendee matching (SPEC §3) scales with the number of people in the CRM.

Builds a SQLite CRM with 10,000 and then 100,000 people (half Individuals, half Contacts, each
with an email, every other one an alternate email, every fifth a Contact Point Email), indexes
their addresses with the same bulk path an import uses (`rebuild_email_index`), and times
`match_email` on a mix of known and unknown addresses in varied spelling. The lookup is one
indexed query, so lookups per second should stay roughly flat: the printed ratio is
(rate at 100,000) / (rate at 10,000), close to 1.0 when cost does not grow with table size.

Run: .venv/bin/python bench/bench_attendee_matching.py
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session

from calsync.crm.database import create_database_engine, create_session_factory
from calsync.crm.matching import match_email
from calsync.crm.migrate import upgrade_database
from calsync.crm.models import Contact, ContactPointEmail, Individual
from calsync.crm.services.email_index import rebuild_email_index

SIZES = (10_000, 100_000)
LOOKUPS = 3_000
ROUNDS = 5
BATCH = 5_000


def _address(number: int, kind: str) -> str:
    return f"person{number}.{kind}@client{number % 97}.example"


def _populate(session: Session, people: int) -> None:
    half = people // 2
    for model, offset in ((Individual, 0), (Contact, half)):
        for start in range(0, half, BATCH):
            rows = [
                {
                    "first_name": "Client",
                    "last_name": f"No. {offset + n}",
                    "email": _address(offset + n, "main"),
                    "alternate_email": _address(offset + n, "alt") if n % 2 == 0 else None,
                }
                for n in range(start, min(start + BATCH, half))
            ]
            session.execute(insert(model), rows)
    points = [
        {"individual_id": record_id, "email": _address(record_id - 1, "extra"), "label": "Work"}
        for record_id in range(1, half + 1, 5)
    ]
    for start in range(0, len(points), BATCH):
        session.execute(insert(ContactPointEmail), points[start : start + BATCH])


def _lookups(people: int, rng: random.Random) -> list[str]:
    addresses = []
    for _ in range(LOOKUPS):
        number = rng.randrange(people)
        roll = rng.random()
        if roll < 0.6:
            address = _address(number, "main")
        elif roll < 0.8:
            address = _address(number, "alt")
        else:
            address = f"unknown{number}@nowhere.example"
        addresses.append(f"  {address.upper()} " if rng.random() < 0.5 else address)
    return addresses


def build(people: int, directory: Path) -> tuple[str, int, float]:
    """Build a CRM of `people`; return (its URL, index rows, build seconds)."""
    url = f"sqlite:///{directory / f'crm-{people}.sqlite3'}"
    upgrade_database(url)
    engine = create_database_engine(url)
    try:
        with create_session_factory(engine)() as session:
            started = time.perf_counter()
            _populate(session, people)
            index_rows = rebuild_email_index(session)
            session.commit()
            return url, index_rows, time.perf_counter() - started
    finally:
        engine.dispose()


def lookup_rate(url: str, addresses: list[str]) -> float:
    """Lookups per second of `match_email` over `addresses` (after a short warm-up)."""
    engine = create_database_engine(url)
    try:
        with create_session_factory(engine)() as session:
            for address in addresses[:200]:
                match_email(session, address)
            found = 0
            started = time.perf_counter()
            for address in addresses:
                found += bool(match_email(session, address))
            elapsed = time.perf_counter() - started
    finally:
        engine.dispose()
    if found == 0:
        raise SystemExit("no lookup matched: the benchmark data is wrong")
    return len(addresses) / elapsed


def main() -> None:
    """Print lookups per second for each size and their ratio.

    The sizes are timed in alternating rounds and the best round of each is kept, so a busy
    machine slows both alike instead of skewing the ratio.
    """
    with tempfile.TemporaryDirectory(prefix="calsync-bench-") as directory:
        built = {}
        for people in SIZES:
            url, index_rows, build_seconds = build(people, Path(directory))
            built[people] = url
            print(
                f"{people:>7,} people: {index_rows:>7,} indexed addresses, built in "
                f"{build_seconds:.1f} s (bulk insert + rebuild_email_index)"
            )
        addresses = {people: _lookups(people, random.Random(people)) for people in SIZES}
        best = dict.fromkeys(SIZES, 0.0)
        for _ in range(ROUNDS):
            for people in SIZES:
                best[people] = max(best[people], lookup_rate(built[people], addresses[people]))
    for people in SIZES:
        print(f"{people:>7,} people: {best[people]:,.0f} lookups/s (best of {ROUNDS} rounds)")
    small, large = SIZES
    print(
        f"ratio of lookup rates {large:,} / {small:,} people: {best[large] / best[small]:.2f} "
        "(1.00 = cost independent of table size)"
    )


if __name__ == "__main__":
    main()
