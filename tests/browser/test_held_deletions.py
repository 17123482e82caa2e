"""Browser, end to end (SPEC §9): a script deletes most of an administrator's synced meetings in
the CRM at once; the sync holds the deletions, the sync page names the held meetings, and
*Confirm deletion* carries them out in Outlook (the emulator's mailbox)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from calsync.crm.services.event_input import EventInput
from calsync.crm.services.events import create_event, delete_event
from calsync.sync.storage.models import OutboxEntry
from tests.browser.conftest import screenshot
from tests.browser.test_sync_end_to_end import (  # noqa: F401 (fixtures used by name)
    TUESDAY,
    SyncedFirm,
    eventually,
    megan_page,
    reload_until_visible,
    synced_firm,
)


def test_held_deletions_are_named_on_the_sync_page_and_confirming_deletes_them_in_outlook(
    megan_page: Page,  # noqa: F811
    synced_firm: SyncedFirm,  # noqa: F811
) -> None:
    firm = synced_firm
    start = datetime.combine(TUESDAY, time(9), tzinfo=UTC)
    with firm.server.session_factory() as session:
        event_ids = [
            create_event(
                session,
                EventInput(
                    owner_id=firm.megan.id,
                    subject=f"Held review {number}",
                    start=start + timedelta(hours=number),
                    end=start + timedelta(hours=number, minutes=30),
                ),
            ).id
            for number in range(8)
        ]
        session.commit()
    held_subjects = [f"Held review {number}" for number in range(8)]

    def all_pushed() -> bool | None:
        subjects = {event["subject"] for event in firm.outlook.events()}
        with firm.server.session_factory() as session:
            waiting = session.scalar(select(func.count()).select_from(OutboxEntry))
        return True if set(held_subjects) <= subjects and waiting == 0 else None

    eventually(all_pushed, "the eight meetings, linked")
    with firm.server.session_factory() as session:
        for event_id in event_ids[:6]:
            delete_event(session, event_id)
        session.commit()

    megan_page.goto("/admin/sync")
    held = megan_page.locator(".held-deletions")
    reload_until_visible(megan_page, held)
    expect(held).to_contain_text("Held for your decision (6 events)")
    expect(held).to_contain_text("Held review 0")
    expect(held).not_to_contain_text("Held review 7")
    screenshot(megan_page, "sync-held-deletions")
    megan_page.get_by_role("button", name="Confirm deletion for Megan Bowen").click()
    expect(megan_page.get_by_role("status")).to_contain_text("Deletion confirmed")

    def only_two_left() -> bool | None:
        subjects = {event["subject"] for event in firm.outlook.events()}
        left = subjects & set(held_subjects)
        return True if left == {"Held review 6", "Held review 7"} else None

    eventually(only_two_left, "the six held meetings deleted")
    expect(megan_page.locator(".held-deletions")).to_have_count(0)
