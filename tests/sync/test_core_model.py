"""A model-based test of the core: two in-memory sides, a tiny runner, random edits and crashes.

The runner here is the smallest one that follows docs/sync-engine.md: an outbox drained by
`plan_push` (with crashes between the Graph write and the commit), scheduled pulls through
`plan_event`, If-Match on every Graph write, `plan_graph_write_result` after each one, and pulled
changes that never enter the outbox. Two staff mailboxes, with Exchange's behaviour of putting a
copy of a meeting in each invited staff mailbox, exercise SPEC §6. After a final quiet sync both
sides agree event by event, no event exists twice, and at every step no one sees a meeting twice on
their CRM calendar. `CALSYNC_CORE_MODEL_EXAMPLES` raises the number of runs.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import replace

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from calsync.sync.actions import (
    CreateInCrm,
    CreateInGraph,
    DeleteInCrm,
    DeleteInGraph,
    EventPlan,
    ForgetLink,
    MarkNotSynced,
    SaveLink,
    SetTeamsJoinUrl,
    UpdateInCrm,
    UpdateInGraph,
)
from calsync.sync.fields import ORGANIZER_FIELDS, SYNCED_FIELDS, EventSnapshot, SyncedAttendee
from calsync.sync.plan import (
    crm_event_id_from_transaction_id,
    plan_event,
    plan_graph_write_result,
    plan_push,
)
from calsync.sync.state import (
    CrmDeleted,
    CrmEvent,
    EventState,
    GraphDeleted,
    GraphEvent,
    MeetingContext,
    Origin,
    SyncLink,
)
from tests.sync.strategies import snapshots

DANA = "dana.whitfield@harborwealth.example"
LI = "li.chen@harborwealth.example"
MAILBOXES = (DANA, LI)
EDITABLE = tuple(name for name in SYNCED_FIELDS if name != "recurrence")
single_events = snapshots.map(lambda snapshot: replace(snapshot, recurrence=None))


class Aborted(Exception):
    """Graph answered 412 or 404: the plan is dropped and the next pull merges again."""


class SyncCoreModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.crm: dict[str, CrmEvent] = {}
        self.tombstones: set[str] = set()
        self.outbox: list[tuple[str, str, str]] = []
        self.graph: dict[str, GraphEvent] = {}
        self.by_transaction: dict[str, str] = {}
        self.links: dict[str, SyncLink] = {}
        self.copy_source: dict[str, str | None] = {}
        self.counter = 0

    # helpers ---------------------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    def graph_write(
        self, graph_id: str, snapshot: EventSnapshot, if_match: str | None
    ) -> GraphEvent:
        current = self.graph.get(graph_id)
        if current is None or (if_match is not None and if_match != current.change_key):
            raise Aborted
        written = replace(current, snapshot=snapshot, change_key=self.new_id("ck"))
        self.graph[graph_id] = written
        return written

    def exchange(self) -> None:
        """Exchange's part: a copy of each organizer's meeting in every invited staff mailbox.

        A copy follows its organizer's event; its attendees are seen from the attendee's side, and
        its show-as and private flag belong to the attendee. A copy the attendee deleted comes back
        only with the organizer's next update.
        """
        wanted: dict[str, tuple[GraphEvent, str]] = {}
        for event in self.graph.values():
            if event.is_organizer:
                for address in event.snapshot.attendee_addresses:
                    if address in MAILBOXES and address != event.mailbox:
                        wanted[f"{event.graph_id}~{address}"] = (event, address)
        for graph_id in [g for g, event in self.graph.items() if not event.is_organizer]:
            if graph_id not in wanted:
                del self.graph[graph_id]
        for graph_id in [g for g in self.copy_source if g not in wanted]:
            del self.copy_source[graph_id]
        for graph_id, (organizer, address) in wanted.items():
            if graph_id in self.copy_source and self.copy_source[graph_id] == organizer.change_key:
                continue
            attendees = organizer.snapshot.attendees - {SyncedAttendee(address)}
            snapshot = replace(
                organizer.snapshot, attendees=attendees | {SyncedAttendee(organizer.mailbox)}
            )
            existing = self.graph.get(graph_id)
            if existing is not None:
                snapshot = replace(
                    snapshot,
                    show_as=existing.snapshot.show_as,
                    is_private=existing.snapshot.is_private,
                )
            self.graph[graph_id] = GraphEvent(
                graph_id,
                address,
                snapshot,
                change_key=self.new_id("ck"),
                ical_uid=organizer.ical_uid,
                is_organizer=False,
                organizer_address=organizer.mailbox,
            )
            self.copy_source[graph_id] = organizer.change_key

    def apply(self, plan: EventPlan, link_key: str | None, *, crash: bool = False) -> None:
        """Apply one plan like a runner: Graph writes, then the CRM writes and the link."""
        written: GraphEvent | None = None
        requested: EventSnapshot | None = None
        created_crm: str | None = None
        for action in plan.actions:
            if isinstance(action, CreateInGraph):
                existing = self.by_transaction.get(action.transaction_id)
                if existing is None or existing not in self.graph:
                    existing = self.new_id("AAMk")
                    self.graph[existing] = GraphEvent(
                        graph_id=existing,
                        mailbox=action.mailbox,
                        snapshot=action.snapshot,
                        change_key=self.new_id("ck"),
                        ical_uid=f"uid-{existing}",
                        organizer_address=action.mailbox,
                        transaction_id=action.transaction_id,
                    )
                    self.by_transaction[action.transaction_id] = existing
                written, requested = self.graph[existing], action.snapshot
            elif isinstance(action, UpdateInGraph):
                if action.graph_id not in self.graph:
                    raise Aborted
                current = self.graph[action.graph_id].snapshot
                values = {name: getattr(action.snapshot, name) for name in action.fields}
                written = self.graph_write(
                    action.graph_id, replace(current, **values), action.if_match
                )
                requested = action.snapshot
            elif isinstance(action, DeleteInGraph):
                current_event = self.graph.get(action.graph_id)
                if current_event is not None:
                    if action.if_match not in (None, current_event.change_key):
                        raise Aborted
                    del self.graph[action.graph_id]
        self.exchange()
        if crash:
            return
        for action in plan.actions:
            if isinstance(action, UpdateInCrm):
                event = self.crm[action.crm_event_id]
                assert event.version == action.expected_version
                values = {name: getattr(action.snapshot, name) for name in action.fields}
                self.crm[event.event_id] = replace(
                    event, snapshot=replace(event.snapshot, **values), version=event.version + 1
                )
            elif isinstance(action, DeleteInCrm):
                assert self.crm[action.crm_event_id].version == action.expected_version
                del self.crm[action.crm_event_id]
                self.tombstones.add(action.crm_event_id)
            elif isinstance(action, CreateInCrm):
                created_crm = self.new_id("evt")
                self.crm[created_crm] = CrmEvent(
                    created_crm, 1, action.owner_mailbox, action.snapshot, origin=action.origin
                )
            elif isinstance(action, SetTeamsJoinUrl):
                event = self.crm[action.crm_event_id]
                self.crm[event.event_id] = replace(event, teams_join_url=action.join_url)
            else:
                assert isinstance(
                    action, MarkNotSynced | CreateInGraph | UpdateInGraph | DeleteInGraph
                )
        if isinstance(plan.link, ForgetLink):
            assert link_key is not None
            self.links.pop(link_key, None)
        elif isinstance(plan.link, SaveLink):
            self.save_link(plan.link, link_key, created_crm, written, requested)

    def save_link(
        self,
        save: SaveLink,
        link_key: str | None,
        created_crm: str | None,
        written: GraphEvent | None,
        requested: EventSnapshot | None,
    ) -> None:
        crm_id = save.crm_event_id or created_crm
        assert crm_id is not None
        save = replace(
            save,
            crm_event_id=crm_id,
            crm_version=save.crm_version or self.crm[crm_id].version,
        )
        if written is not None and requested is not None:
            follow_up = plan_graph_write_result(save, requested, written)
            for action in follow_up.actions:
                if isinstance(action, UpdateInCrm):
                    event = self.crm[crm_id]
                    values = {name: getattr(action.snapshot, name) for name in action.fields}
                    self.crm[crm_id] = replace(
                        event, snapshot=replace(event.snapshot, **values), version=event.version + 1
                    )
            assert isinstance(follow_up.link, SaveLink)
            save = replace(
                follow_up.link, crm_version=follow_up.link.crm_version or self.crm[crm_id].version
            )
        assert save.graph_id is not None
        if link_key is not None and link_key != crm_id:
            self.links.pop(link_key, None)
        self.links[crm_id] = SyncLink(
            crm_event_id=crm_id,
            mailbox=save.mailbox,
            graph_id=save.graph_id,
            base=save.base,
            origin=save.origin,
            crm_version=save.crm_version or self.crm[crm_id].version,
            change_key=save.change_key,
            ical_uid=save.ical_uid,
            is_organizer=save.is_organizer,
            event_type=save.event_type,
        )

    def push_one(self, *, crash: bool) -> None:
        entry_id, kind, crm_id = self.outbox[0]
        crm = self.crm.get(crm_id) or CrmDeleted(crm_id)
        link = self.links.get(crm_id)
        plan = plan_push(link, crm, outbox_entry_id=entry_id if kind == "create" else None)
        try:
            self.apply(plan, crm_id, crash=crash)
        except Aborted:
            return
        if not crash:
            self.outbox.pop(0)

    def pull(self, mailbox: str, crash_at: int | None = None) -> None:
        """One mailbox's scheduled run; `crash_at` kills it after that many plans' Graph writes."""
        planned = 0

        def run(plan: EventPlan, link_key: str | None) -> bool:
            nonlocal planned
            crash = crash_at is not None and planned == crash_at
            planned += 1
            with contextlib.suppress(Aborted):
                self.apply(plan, link_key, crash=crash)
            return crash

        for crm_id, link in list(self.links.items()):
            if crm_id not in self.links or link.mailbox != mailbox:
                continue
            crm = self.crm.get(crm_id) or CrmDeleted(crm_id)
            graph = self.graph.get(link.graph_id) or GraphDeleted(link.graph_id)
            if run(plan_event(EventState(link=link, crm=crm, graph=graph)), crm_id):
                return
        linked = {link.graph_id for link in self.links.values()}
        for graph_id, event in list(self.graph.items()):
            if graph_id in linked or graph_id not in self.graph or event.mailbox != mailbox:
                continue
            pushed_from = crm_event_id_from_transaction_id(event.transaction_id)
            crm: CrmEvent | CrmDeleted | None = None
            if pushed_from is not None and pushed_from in self.crm:
                assert pushed_from not in self.links, "one CRM event was created twice in Graph"
                crm = self.crm[pushed_from]
            elif pushed_from is not None and pushed_from in self.tombstones:
                crm = CrmDeleted(pushed_from)
            meeting = None
            if not event.is_organizer:
                meeting = MeetingContext(
                    organizer_mailbox_synced=event.organizer_address in MAILBOXES,
                    organizer_copy_origin=self.organizer_link_origin(event),
                )
            state = EventState(crm=crm, graph=event, meeting=meeting)
            if run(plan_event(state), pushed_from):
                return

    def organizer_link_origin(self, copy: GraphEvent) -> Origin | None:
        for link in self.links.values():
            if link.is_organizer and link.ical_uid == copy.ical_uid:
                return link.origin
        return None

    def meeting_identity(self, event: CrmEvent) -> str:
        link = self.links.get(event.event_id)
        if link is not None and link.ical_uid is not None:
            return link.ical_uid
        return f"crm:{event.event_id}"

    def pick(self, data: st.DataObject, ids: list[str]) -> str:
        return data.draw(st.sampled_from(sorted(ids)))

    def edit(self, data: st.DataObject, snapshot: EventSnapshot) -> EventSnapshot:
        other = data.draw(single_events)
        name = data.draw(st.sampled_from(EDITABLE))
        return replace(snapshot, **{name: getattr(other, name)})

    # rules -----------------------------------------------------------------------------------

    @rule(snapshot=single_events, owner=st.sampled_from(MAILBOXES))
    def create_in_crm(self, snapshot: EventSnapshot, owner: str) -> None:
        event_id = self.new_id("evt")
        self.crm[event_id] = CrmEvent(event_id, 1, owner, snapshot)
        self.outbox.append((self.new_id("outbox"), "create", event_id))

    @precondition(lambda self: self.crm)
    @rule(data=st.data())
    def edit_in_crm(self, data: st.DataObject) -> None:
        event = self.crm[self.pick(data, list(self.crm))]
        self.crm[event.event_id] = replace(
            event, snapshot=self.edit(data, event.snapshot), version=event.version + 1
        )
        self.outbox.append((self.new_id("outbox"), "update", event.event_id))

    @precondition(lambda self: self.crm)
    @rule(data=st.data())
    def delete_in_crm(self, data: st.DataObject) -> None:
        event_id = self.pick(data, list(self.crm))
        del self.crm[event_id]
        self.tombstones.add(event_id)
        self.outbox.append((self.new_id("outbox"), "delete", event_id))

    @rule(snapshot=single_events, mailbox=st.sampled_from(MAILBOXES))
    def create_in_outlook(self, snapshot: EventSnapshot, mailbox: str) -> None:
        graph_id = self.new_id("AAMk")
        self.graph[graph_id] = GraphEvent(
            graph_id,
            mailbox,
            snapshot,
            change_key=self.new_id("ck"),
            ical_uid=f"uid-{graph_id}",
            organizer_address=mailbox,
        )
        self.exchange()

    def organized(self) -> list[str]:
        return [graph_id for graph_id, event in self.graph.items() if event.is_organizer]

    @precondition(lambda self: self.organized())
    @rule(data=st.data())
    def edit_in_outlook(self, data: st.DataObject) -> None:
        graph_id = self.pick(data, self.organized())
        self.graph_write(graph_id, self.edit(data, self.graph[graph_id].snapshot), None)
        self.exchange()

    @precondition(lambda self: self.organized())
    @rule(data=st.data())
    def delete_in_outlook(self, data: st.DataObject) -> None:
        del self.graph[self.pick(data, self.organized())]
        self.exchange()

    @precondition(lambda self: self.outbox)
    @rule(crash=st.booleans())
    def push(self, crash: bool) -> None:
        self.push_one(crash=crash)

    @rule(
        mailbox=st.sampled_from(MAILBOXES),
        crash_at=st.none() | st.integers(min_value=0, max_value=5),
    )
    def scheduled_pull(self, mailbox: str, crash_at: int | None) -> None:
        self.pull(mailbox, crash_at)

    # checks ----------------------------------------------------------------------------------

    @invariant()
    def no_graph_event_is_linked_twice(self) -> None:
        graph_ids = [link.graph_id for link in self.links.values()]
        assert len(graph_ids) == len(set(graph_ids))

    @invariant()
    def no_one_sees_a_meeting_twice(self) -> None:
        """SPEC §6: own events, plus the CRM's read-only copies of colleagues' meetings."""
        for person in MAILBOXES:
            own = [self.meeting_identity(e) for e in self.crm.values() if e.owner_mailbox == person]
            read_only = [
                self.meeting_identity(event)
                for event in self.crm.values()
                if event.owner_mailbox != person
                and person in event.snapshot.attendee_addresses
                and not (
                    event.origin is Origin.MICROSOFT_365 and self.meeting_identity(event) in own
                )
            ]
            seen = own + read_only
            assert len(seen) == len(set(seen)), f"{person} sees a meeting twice"

    def teardown(self) -> None:
        for _ in range(3):
            while self.outbox:
                before = len(self.outbox)
                self.push_one(crash=False)
                if len(self.outbox) == before:
                    self.outbox.pop(0)
            for mailbox in MAILBOXES:
                self.pull(mailbox)
        assert set(self.links) == set(self.crm), "every CRM event is linked, and only those"
        invitations_of_crm_meetings = {
            graph_id
            for graph_id, event in self.graph.items()
            if not event.is_organizer and self.organizer_link_origin(event) is Origin.CRM
        }
        linked = {link.graph_id for link in self.links.values()}
        assert linked == set(self.graph) - invitations_of_crm_meetings
        for crm_id, link in self.links.items():
            crm, graph = self.crm[crm_id].snapshot, self.graph[link.graph_id].snapshot
            assert link.base == graph
            for name in SYNCED_FIELDS:
                if link.is_organizer or name not in ORGANIZER_FIELDS:
                    assert getattr(crm, name) == getattr(graph, name), name
        for crm_id, link in self.links.items():
            quiet = plan_event(
                EventState(link=link, crm=self.crm[crm_id], graph=self.graph[link.graph_id])
            )
            assert quiet.writes_nothing


SyncCoreModel.TestCase.settings = settings(
    max_examples=int(os.environ.get("CALSYNC_CORE_MODEL_EXAMPLES", "60")),
    stateful_step_count=30,
    deadline=None,
)
test_sync_core_converges_without_duplicates = SyncCoreModel.TestCase
