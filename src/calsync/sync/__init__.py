"""The sync engine's sans-I/O decision core: what to write where, for one event at a time.

CalSync keeps one *link* per synced event (CRM event ↔ mailbox + Graph id, with the snapshot both
sides last agreed on) and one delta cursor per mailbox. A run feeds the core, event by event, the
link and each side's current state; the core answers with a plan of small action objects (create,
update, delete on either side, save or forget the link) and the notices to log. The runners do the
I/O and apply plans, in the transactions docs/sync-engine.md prescribes.

The decisions follow three ideas:

- **Three-way merge per field** (`merge`): against the last synced snapshot, a field changed on one
  side takes that side's value; changed on both, Microsoft 365 wins and a `Conflict` is logged
  (SPEC §2). A field is written to a side only when the merged value differs from what it holds,
  which is what keeps the engine echo-free.
- **Content, not version stamps** (`fields`): snapshots are normalised on construction so that
  representation noise (UTC vs zoned times, HTML vs text bodies, attendee order and case) never
  looks like an edit.
- **Deletions need evidence** (`delta`, `guard`): `@removed` in a delta round only means "gone from
  this window", and a run that would delete most of a mailbox stops for an administrator (SPEC §9).

Modules: `fields` (snapshot), `recurrence` and `recurrence_summary` (series rules, SPEC §5),
`merge`, `state` (inputs), `actions` (outputs), `plan` (decisions), `attendees` (SPEC §3 matching
and the reverse), `delta` (one round reduced to per-id final states), `guard` (mass deletion),
`errors`. Nothing here reads a clock, a database or the network; time always comes in as arguments.
"""
