"""An in-memory case repository that keeps the adapter's promises: a write lands only on the version it was decided
on, a new reference only once, and the changes of one transaction all together or not at all.

Races are real writes, not counted failures: ``races = n`` has someone else write first, before each of the next ``n``
writes, what the table would then hold (a note on the stored case; another complaint under the same new reference).
A retry that decides on the case it read before, or draws the same reference again, fails as it would on DynamoDB."""

from __future__ import annotations

from collections.abc import Sequence

from amends.domain.errors import CaseNotFound, ConcurrentUpdate
from amends.domain.events import DomainEvent
from amends.domain.model import Actor, Case, Change, TimelineEntry
from amends.services.ports import CasePage, CaseQuery, CaseRecord, ReferenceTaken


SOMEONE_ELSE = Actor(kind="staff", id="someone-else", roles=("supervisor",))


class MemoryCaseRepository:
    def __init__(self) -> None:
        self.cases: dict[str, Case] = {}
        self.timelines: dict[str, list[TimelineEntry]] = {}
        self.events: list[DomainEvent] = []
        self.transactions = 0
        self.before_write: list = []  # callables that race the next writes: one runs before each write
        self.races = 0  # how many of the next writes someone else's write comes just before (see the module)
        self._racing = False

    def record(self, change: Change) -> None:
        self.record_all([change])

    def record_all(self, changes: Sequence[Change]) -> None:
        if self.before_write and not self._racing:
            self._racing = True
            try:
                self.before_write.pop(0)(self)
            finally:
                self._racing = False
        if self.races and not self._racing:
            self.races -= 1
            self._racing = True
            try:
                for change in changes:
                    self._someone_else_writes_first(change)
            finally:
                self._racing = False
        if len({c.case.reference for c in changes}) != len(changes):
            raise ValueError("one change per case in a transaction")
        for change in changes:  # every condition first: nothing is written unless all hold
            ref = change.case.reference
            stored = self.cases.get(ref)
            if change.expected_version is None and stored is not None:
                raise ReferenceTaken(ref)
            if change.expected_version is not None and (stored is None or stored.version != change.expected_version):
                raise ConcurrentUpdate(ref)
            if change.entry.seq != change.case.version:
                raise AssertionError("an entry is numbered by the version it produced")
        for change in changes:
            ref = change.case.reference
            self.cases[ref] = change.case
            self.timelines.setdefault(ref, []).append(change.entry)
            self.events += change.events
        self.transactions += 1

    def _someone_else_writes_first(self, change: Change) -> None:
        ref = change.case.reference
        if change.expected_version is None:  # another complaint, filed a moment before, drew the same reference
            theirs = change.case.model_copy(update={"access_token_hash": "someone else's token".ljust(64, ".")})
            self.record(change.model_copy(update={"case": theirs}))
        elif ref in self.cases:  # a colleague's note lands first: the stored case is one version on
            stored = self.cases[ref]
            self.record(stored.add_note("meanwhile", SOMEONE_ELSE, stored.updated_at))

    def get(self, reference: str) -> Case:
        if reference not in self.cases:
            raise CaseNotFound(reference)
        return self.cases[reference]

    def get_with_timeline(self, reference: str) -> CaseRecord:
        return CaseRecord(self.get(reference), list(self.timelines[reference]))

    def list_cases(self, query: CaseQuery) -> CasePage:
        return CasePage([c.listing() for c in self.cases.values()], None)

    def events_of(self, reference: str) -> list[str]:
        return [e.type for e in self.events if e.case_reference == reference]


class MemoryStaffDirectory:
    """The user pool as a dict: user id → (email, groups)."""

    def __init__(self, users: dict[str, tuple[str, tuple[str, ...]]] | None = None) -> None:
        self.users = dict(users or {})

    def member(self, user_id: str):  # noqa: ANN201 - a StaffMember or None
        from amends.services.ports import StaffMember

        found = self.users.get(user_id)
        return StaffMember(id=user_id, email=found[0], name=user_id) if found else None

    def with_role(self, role: str) -> list:
        from amends.services.ports import StaffMember

        return [StaffMember(id=u, email=e, name=u) for u, (e, groups) in self.users.items() if role in groups]
