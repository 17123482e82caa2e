"""Delta's optional oddities switched at run time through the control API, per mailbox or for all,
on the real TLS emulator server (GRAPH.md §12 fact 3: empty pages with a nextLink, duplicates)."""

from __future__ import annotations

import ssl
from typing import Any

import httpx
import pytest

from calsync.emulator.control_client import EmulatorControl, EmulatorControlError
from calsync.emulator.server import EmulatorServer
from tests.fixtures.emulator import ADELE, MEGAN

WEEK = {"startDateTime": "2026-12-07T00:00:00Z", "endDateTime": "2026-12-14T00:00:00Z"}
SMALL_PAGES = {"Prefer": "odata.maxpagesize=2"}


def book_three(graph: httpx.Client, mailbox: str) -> None:
    for day in (8, 9, 10):
        reply = graph.post(
            f"/users/{mailbox}/events",
            json={
                "subject": f"Site visit {day}",
                "start": {"dateTime": f"2026-12-{day:02d}T09:00:00", "timeZone": "UTC"},
                "end": {"dateTime": f"2026-12-{day:02d}T10:00:00", "timeZone": "UTC"},
            },
        )
        assert reply.status_code == 201, reply.text


def delta_pages(graph: httpx.Client, mailbox: str) -> list[list[str]]:
    """The ids of each page of one initial delta round."""
    reply = graph.get(f"/users/{mailbox}/calendarView/delta", params=WEEK, headers=SMALL_PAGES)
    pages = []
    while True:
        assert reply.status_code == 200, reply.text
        body: dict[str, Any] = reply.json()
        pages.append([item["id"] for item in body["value"]])
        if "@odata.deltaLink" in body:
            return pages
        reply = graph.get(body["@odata.nextLink"], headers=SMALL_PAGES)


def test_duplicates_for_one_mailbox_leave_the_others_plain(
    control: EmulatorControl, graph: httpx.Client
) -> None:
    book_three(graph, ADELE)
    book_three(graph, MEGAN)
    switched = control.set_delta_quirks(duplicate_items=True, mailbox=ADELE)
    assert switched["duplicateItems"] is True
    assert switched["emptyFirstPage"] is False

    adele = delta_pages(graph, ADELE)
    megan = delta_pages(graph, MEGAN)
    assert adele[1][0] == adele[0][-1]  # the last item of a page repeated at the top of the next
    assert sum(len(page) for page in adele) == 4
    assert sum(len(page) for page in megan) == 3
    assert len({i for page in megan for i in page}) == 3
    overview = control.delta_quirks()
    assert overview["duplicateItems"] is False
    assert overview["mailboxes"][ADELE]["duplicateItems"] is True

    control.clear_delta_quirks(ADELE)
    assert sum(len(page) for page in delta_pages(graph, ADELE)) == 3


def test_empty_first_page_for_every_mailbox_then_off_again(
    control: EmulatorControl, graph: httpx.Client
) -> None:
    book_three(graph, MEGAN)
    control.set_delta_quirks(empty_first_page=True)
    pages = delta_pages(graph, MEGAN)
    assert pages[0] == []  # empty, yet it carried a nextLink (delta_pages followed it)
    assert len({i for page in pages for i in page}) == 3
    assert control.delta_quirks(MEGAN)["emptyFirstPage"] is True

    control.set_delta_quirks(empty_first_page=False, mailbox=MEGAN)  # a mailbox beats global
    assert delta_pages(graph, MEGAN)[0] != []
    control.clear_delta_quirks()
    assert control.delta_quirks()["emptyFirstPage"] is False


def test_the_control_api_refuses_bad_quirk_settings_naming_the_field(
    control: EmulatorControl, emulator_server: EmulatorServer
) -> None:
    verify = ssl.create_default_context(cafile=str(emulator_server.ca_path))
    url = f"{emulator_server.base_url}/_emulator/delta-quirks"
    wrong_value = httpx.put(url, json={"duplicateItems": "yes"}, verify=verify)
    assert wrong_value.status_code == 400
    assert wrong_value.json()["error"]["code"] == "invalidDeltaQuirks"
    assert wrong_value.json()["error"]["message"].startswith("duplicateItems:")
    unknown = httpx.put(url, json={"slowPages": True}, verify=verify)
    assert unknown.json()["error"]["message"].startswith("slowPages:")
    with pytest.raises(EmulatorControlError) as nobody:
        control.set_delta_quirks(duplicate_items=True, mailbox="nobody@contoso.com")
    assert nobody.value.status == 404
    overview = control.delta_quirks()
    assert (overview["duplicateItems"], overview["mailboxes"]) == (False, {})


def test_reset_drops_quirk_overrides(control: EmulatorControl) -> None:
    control.set_delta_quirks(duplicate_items=True, empty_first_page=True)
    control.set_delta_quirks(duplicate_items=True, mailbox=MEGAN)
    control.reset()
    overview = control.delta_quirks()
    assert (overview["duplicateItems"], overview["emptyFirstPage"]) == (False, False)
    assert overview["mailboxes"] == {}
