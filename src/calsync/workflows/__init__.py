"""The "Create an Event" workflow action (SPEC §8): meetings booked as a step of a firm's process.

A workflow runs on one record (an Individual or a Contact) — by hand, when such a record is
created, or when a named field changes to a given value — and each of its steps creates an
ordinary CRM event from templates. Design notes and rules: docs/workflows.md.

The pure core needs no database: `templates` (placeholders), `schedule` (when the event starts,
across DST and weekends), `record_schema` (what a record type offers), `definitions` (the JSON an
admin writes, and its checked form) and `planning` (a step's event for one record).
Around it: `models` (tables), `store` (saving versions), `record_views` (reading records),
`event_creation` (the CRM's event service), `runs` (all-or-nothing, idempotent runs),
`triggers` (the session hook that runs workflows after record changes) and `demo` (examples).
"""
