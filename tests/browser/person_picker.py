"""Browser tests' way to add an attendee on the event form: type in *Add a person*, pick the match.

The form has no list of everyone any more (static/js/person-picker.js asks /people/search), so a
test adds a person the way a user does: type part of the name or address, wait for the match, and
choose it with the keyboard.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect


def add_attendee(page: Page, typed: str, name: str) -> None:
    """Type `typed` in *Add a person* and pick the match called `name` with the arrow keys and
    Enter; the person is then a ticked attendee of the unsaved form."""
    search = page.get_by_role("combobox", name="Add a person")
    search.press_sequentially(typed, delay=20)
    options = page.get_by_role("listbox", name="Add a person").get_by_role("option")
    expect(options.filter(has_text=name).first).to_be_visible()
    names = [text.strip() for text in options.locator(".person-name").all_inner_texts()]
    assert name in names, f"{name!r} is not among the matches for {typed!r}: {names}"
    for _ in range(names.index(name) + 1):
        search.press("ArrowDown")
    expect(options.nth(names.index(name))).to_have_attribute("aria-selected", "true")
    search.press("Enter")
    expect(page.get_by_label(name, exact=True)).to_be_checked()
