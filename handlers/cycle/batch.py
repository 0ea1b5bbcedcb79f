"""One batch of due items as their handlers see it, and what handling one produces.

The due pass (handlers.cycle.due_pass) loads a batch's pairings once (:class:`Batch`), then
hands each item that fell due to the handler of its kind (handlers.cycle.registry) as a
:class:`Due`: the item, its pairing (:class:`Pair`), and the lists the handler adds to
(the messages it queues, the due rows that follow it, the batch's report).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.messages import Reply
from handlers.core.naming import leading_several
from handlers.core.program import Program
from handlers.core.programs import Programs
from handlers.cycle.schedule import DueWork
from handlers.meetings.occurrences import Occurrence
from handlers.people.lookups import program_leads
from storage import Person, Role

#: What handling an item did: it sent messages, or there was nothing to say.
Handled = Literal["sent", "suppressed"]


@dataclass
class CycleReport:
    """What processing a batch of due items did.

    Attributes:
        sent: Items that produced messages.
        suppressed: Check-ins and reminders a logged session made unnecessary.
        folded: Late items folded into a catch-up message.
        held: Items held back because someone in the pairing is paused.
        closed: Items of pairings that ended.
        messages: Outbox messages queued.
        at_risk: Pairings that became at risk in this batch.
        close_proposed: Pairings proposed for closing after a long silence.
    """

    sent: int = 0
    suppressed: int = 0
    folded: int = 0
    held: int = 0
    closed: int = 0
    messages: int = 0
    at_risk: list[int] = field(default_factory=list)
    close_proposed: list[int] = field(default_factory=list)

    def add(self, other: CycleReport) -> None:
        """Add another batch's counts to these."""
        for name in ("sent", "suppressed", "folded", "held", "closed", "messages"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.at_risk += other.at_risk
        self.close_proposed += other.close_proposed

    @property
    def processed(self) -> int:
        """Every item handled."""
        return self.sent + self.suppressed + self.folded + self.held + self.closed


@dataclass
class Pair:
    """A pairing as one batch sees and changes it."""

    id: int
    status: str
    cycle: int
    start: datetime
    activated: datetime
    last_activity: datetime
    missed: int
    at_risk_since: datetime | None
    mentee_id: int
    mentor_id: int
    mentee: str
    mentor: str
    mentee_zone: str
    mentor_zone: str
    changed: bool = False


@dataclass
class Message:
    """A message a handler queues; the due pass delivers it in its reader's working hours."""

    person_id: int
    zone: str
    reply: Reply
    key: str
    stale: bool
    item_id: int
    #: The pairing the message is about, so it is withdrawn if the pairing ends first.
    pairing_id: int | None = None


@dataclass
class Batch:
    """What the due pass loaded for a batch, in one query per kind of fact."""

    program: Program
    #: Every program of the file (which leads lead several).
    programs: Programs
    now: datetime
    #: The readers who read the program's name in what they are sent: people with kept
    #: enrollments in several programs, and leads of several (handlers.core.naming).
    several: set[int]
    pairs: dict[int, Pair]
    paused: set[int]
    last_session: dict[int, date]
    sessions: dict[int, int]
    milestones: dict[int, list[tuple[int, str, date, str]]]
    leads: list[Person] | None = None
    #: Feedback requests the batch's checkpoints ask.
    surveys: list[dict[str, Any]] = field(default_factory=list)
    #: The open action items of each pairing's latest summarised session.
    action_items: dict[int, list[str]] = field(default_factory=dict)
    #: Facts a kind of item looks up for every pairing of the batch at its first item, by
    #: kind (handlers.cycle.reminders): one query for the batch, not one per item.
    facts: dict[str, dict[int, Any]] = field(default_factory=dict)
    #: The occurrences of each pairing's booked meetings, in time order
    #: (handlers.meetings.booking.booked_by_pairing).
    meetings: dict[int, list[Occurrence]] = field(default_factory=dict)


@dataclass
class Due:
    """One item that fell due, handed to the handler of its kind.

    Attributes:
        item: The item (its kind, when it fell due, what was kept on it).
        pair: Its pairing; a handler may change ``missed`` and ``at_risk_since``
            (and sets ``changed``), which the due pass writes back.
        batch: What the batch loaded.
        follow_ups: Due rows to insert after the batch (the next check-in, look...).
        report: The batch's report (pairings that became at risk, closings proposed).
        messages: The messages handling this item queues.
    """

    item: DueWork
    pair: Pair
    batch: Batch
    follow_ups: list[dict[str, Any]]
    report: CycleReport
    messages: list[Message] = field(default_factory=list)

    def tell(self, person_id: int, zone: str, *, reply: Reply) -> None:
        """Queue ``reply`` for one person, once per item."""
        key = f"due:{self.item.id}:{person_id}"
        self.messages.append(Message(person_id, zone, reply, key, False, self.item.id))

    def tell_both(self, build: Callable[[str, Role], Reply]) -> None:
        """A message to each side; ``build(other_name, role)`` words it for one reader."""
        pair = self.pair
        for person_id, zone, other, role in (
            (pair.mentee_id, pair.mentee_zone, pair.mentor, Role.MENTEE),
            (pair.mentor_id, pair.mentor_zone, pair.mentee, Role.MENTOR),
        ):
            self.tell(person_id, zone, reply=build(other, role))

    async def tell_leads(self, session: AsyncSession, build: Callable[[str], Reply]) -> None:
        """A message to each program lead; ``build(zone)`` words it for a lead in that zone."""
        batch = self.batch
        if batch.leads is None:
            batch.leads = await program_leads(session, batch.program, now=batch.now)
            batch.several |= leading_several(batch.programs, batch.leads)
        for lead in batch.leads:
            assert lead.id is not None
            zone = lead.timezone or batch.program.default_timezone
            key = f"due:{self.item.id}:lead:{lead.id}"
            self.messages.append(Message(lead.id, zone, build(zone), key, False, self.item.id))


#: A due kind's handler: what happens when an item of that kind falls due.
DueHandler = Callable[[AsyncSession, Due], Awaitable[Handled]]
