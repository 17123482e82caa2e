"""The CRM side of CalSync: people, staff users and events in a SQL database.

`models` holds the tables (one module per record family), `database` opens them, `migrate` keeps
their shape
current with Alembic, and `services` holds the rules of SPEC §1, §3 and §6 as plain functions over a
`Session`. Every rule breach raises a `CrmError` (see `errors`) with a machine-readable code.
"""
