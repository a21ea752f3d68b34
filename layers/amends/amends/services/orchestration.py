"""How a case's lifecycle execution learns what people did: task tokens, woken from the case's own history.

The CaseLifecycle state machine runs for the life of a case. Between its automated steps it waits in ``AwaitChange``,
a ``.waitForTaskToken`` task: the lifecycle function keeps the token for the case (:func:`arm`) with the version of
the last status change the execution has acted on. Two things wake it, and both send the same thing, the *next*
status change after that version, read from the case's timeline (:func:`wake`):

* every case event that carries a status change, from the outbox through the bus and a queue (:func:`on_event`),
  when its version is newer than the token's: so the callback is driven by the committed change, never by the
  request that made it, and a crash in between loses nothing (the outbox publishes the event later);
* ``arm`` itself, when the case has moved on since: a change made while no token was kept (the execution was busy
  with a step) is caught up at once.

Sending the next change, not the event's, keeps the execution walking every status change once and in order, however
the events arrive: a duplicate or late event finds the token already past it and changes nothing, and a token Step
Functions no longer knows (TaskTimedOut, InvalidToken) is simply forgotten.

Executions are named ``<reference>-v<version>`` after the change that starts them (the opening, each reopening), so a
redelivered start is refused by Step Functions instead of starting a second execution. Each reopening starts a new
*generation*; an older generation's execution that is still waiting is told ``superseded`` and ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from amends.domain.events import DomainEvent
from amends.domain.lifecycle import Action, Status

SUPERSEDED = "superseded"  # the status sent to an execution whose case has a newer generation


@dataclass(frozen=True)
class Waiting:
    """A lifecycle execution waiting in AwaitChange."""

    token: str
    version: int  # the last status change the execution has acted on
    generation: int  # the version of the change that started the execution (the opening or a reopening)
    execution: str


@dataclass(frozen=True)
class StatusChange:
    version: int
    status: str

    def output(self) -> dict[str, Any]:
        """What AwaitChange returns to the state machine, which routes on ``status``."""
        return {"status": self.status, "version": self.version}


class Superseded(Exception):
    """A newer generation's execution holds the case."""


class ExecutionTokens(Protocol):
    def keep(self, reference: str, waiting: Waiting) -> Waiting | None:
        """Keep ``waiting`` as the case's token; return the one it replaces. Raises Superseded when the kept token
        is of a newer generation."""
        ...

    def get(self, reference: str) -> Waiting | None: ...

    def forget(self, reference: str, token: str) -> None:
        """Forget the case's token if it is still ``token`` (the execution may already wait on a newer one)."""
        ...


class StatusHistory(Protocol):
    def next_status_change(self, reference: str, after_version: int) -> StatusChange | None:
        """The first change after ``after_version`` that set the case's status, from its timeline."""
        ...


class TaskCallbacks(Protocol):
    def succeed(self, token: str, output: dict[str, Any]) -> bool:
        """SendTaskSuccess; False when Step Functions no longer waits on ``token`` (done, timed out, unknown)."""
        ...


class ExecutionStarter(Protocol):
    def start(self, name: str, execution_input: dict[str, Any]) -> bool:
        """StartExecution. True when the execution runs (started now, or this very start repeated while it runs:
        Step Functions answers that with the running one); False when an execution of that name has been already."""
        ...


@dataclass(frozen=True)
class EventOutcome:
    started: str | None = None  # the execution this event started (or found running, if it was repeated)
    woke: StatusChange | None = None  # what the waiting execution was sent


def arm(reference: str, waiting: Waiting, *, tokens: ExecutionTokens, history: StatusHistory,
        callbacks: TaskCallbacks) -> StatusChange | None:
    """The AwaitChange step: keep the token, then send the next status change if the case has one already."""
    try:
        replaced = tokens.keep(reference, waiting)
    except Superseded:
        callbacks.succeed(waiting.token, {"status": SUPERSEDED, "version": waiting.version})
        return StatusChange(waiting.version, SUPERSEDED)
    if replaced is not None and replaced.generation < waiting.generation:
        callbacks.succeed(replaced.token, {"status": SUPERSEDED, "version": replaced.version})
    return wake(reference, waiting, tokens=tokens, history=history, callbacks=callbacks)


def wake(reference: str, waiting: Waiting, *, tokens: ExecutionTokens, history: StatusHistory,
         callbacks: TaskCallbacks) -> StatusChange | None:
    """Send ``waiting`` the next status change after its version, if there is one, and forget the token."""
    change = history.next_status_change(reference, waiting.version)
    if change is None:
        return None
    callbacks.succeed(waiting.token, change.output())  # a token Step Functions has let go of is forgotten too
    tokens.forget(reference, waiting.token)
    return change


def on_event(event: DomainEvent, *, tokens: ExecutionTokens, history: StatusHistory, callbacks: TaskCallbacks,
             starter: ExecutionStarter) -> EventOutcome:
    """A case event from the bus: start the lifecycle it begins, wake the execution waiting for it."""
    reference = event.case_reference
    started = None
    if begins_a_lifecycle(event):
        name = execution_name(reference, event.case_version)
        if starter.start(name, execution_input(event)):
            started = name
    waiting = tokens.get(reference)
    if waiting is None or event.case_version <= waiting.version:
        return EventOutcome(started=started)  # nothing waits, or the execution is already past this change
    return EventOutcome(started=started, woke=wake(reference, waiting, tokens=tokens, history=history,
                                                     callbacks=callbacks))


def begins_a_lifecycle(event: DomainEvent) -> bool:
    return event.type == "CaseOpened" or event.data.get("action") == Action.REOPEN.value


def execution_name(reference: str, version: int) -> str:
    return f"{reference}-v{version}"


def execution_input(event: DomainEvent) -> dict[str, Any]:
    """The state machine's input: the case and where its lifecycle (re)starts."""
    status = Status.RECEIVED.value if event.type == "CaseOpened" else event.data["after"]["status"]
    return {"case_reference": event.case_reference, "version": event.case_version, "status": status}
