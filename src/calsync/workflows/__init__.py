"""The "Create an Event" workflow action (SPEC §8): meetings created from templates as a step of a
process.

A workflow runs on one record (an Individual or a Contact) — by hand, when such a record is created,
or when a named field changes to a given value — and each of its steps creates an ordinary CRM event
from templates.

The pure core needs no database: `templates` (placeholders), `schedule` (when the event starts),
`record_schema` (what a record type offers) and `definitions` (the JSON an admin writes, and its
checked form).
"""
