"""A pair's meetings in the database: who meets, for how long, when they are busy.

What the chat commands (handlers.meetings.commands), ``status``, ``log`` and the check-in
nudges ask of the ``meeting`` table, in one place:

* :func:`sides` and :func:`usual_minutes`: a pairing's two people as slot finding sees
  them, and how long their meetings are;
* :func:`busy_for`: every booked mentoring meeting of some people, any pairing, as slots;
* :func:`pairing_meetings`, :func:`open_offer`, :func:`declined_slots`: a pairing's rows,
  and :func:`upcoming` / :func:`last_held`: its occurrences across its booked meetings
  (usually one; two once a series was moved from some meeting on, handlers.meetings.changes),
  ahead or held by one rule: a meeting that has started is held
  (handlers.meetings.occurrences.ahead);
* :func:`booked_by_pairing`: the booked meetings of many pairings at once (the due pass);
* :func:`changed`: the one way a meeting changes after booking: its sequence raised and
  the invites sent (handlers.meetings.invites);
* :func:`cancel_ahead` and :func:`cancel_all_ahead`: cancelling what is still ahead while
  the meetings held stay (``cancel-meeting series``), and :func:`cancel_pairing_meetings`
  for a pairing that ends (handlers.cycle.ending.end_pairing), which also withdraws its
  offers no one picked (:func:`withdraw_offers`);
* :func:`run_on` and :func:`run_series_on`: a pairing that continues for another cycle
  (handlers.cycle.answers) keeps its series that ran to the old cycle's end, to the new end.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.messages import Option
from handlers.core.program import Meaning, Program, ProgramType
from handlers.meetings import invites
from handlers.meetings.occurrences import (
    Occurrence,
    ahead,
    held,
    instant,
    occurrences,
    originals,
)
from handlers.meetings.slots import Attendee, Slot
from handlers.people.lookups import enrollment_of, people_by_id
from storage import Meeting, MeetingStatus, Pairing, Person, Role
from storage.queries import among
from storage.tables import MEETING, PAIRING, PERSON

#: A meeting's length when neither side said how many hours a month they can give.
DEFAULT_MINUTES = 45
#: The shortest and longest meeting worked out from the hours people gave.
SHORTEST, LONGEST = 30, 90
#: Lengths are rounded to this many minutes.
ROUNDING = 15
#: Days in a month, for hours a month turned into a meeting's length.
MONTH_DAYS = 30


def find_a_time(pairing_id: int) -> Option:
    """The "Find a time" button of the kickoff, the plan's confirmation and the nudges."""
    return Option(f"schedule {pairing_id}", "Find a time")


@dataclass(frozen=True)
class Sides:
    """A pairing's two people, and each as slot finding sees them."""

    mentee: Person
    mentor: Person
    mentee_side: Attendee
    mentor_side: Attendee

    def of(self, person_id: int | None) -> tuple[Attendee, Attendee]:
        """(that person, the other) as attendees."""
        if person_id == self.mentee.id:
            return self.mentee_side, self.mentor_side
        return self.mentor_side, self.mentee_side

    def other(self, person_id: int | None) -> Person:
        """The other side of ``person_id``."""
        return self.mentor if person_id == self.mentee.id else self.mentee

    @property
    def organizer_zone(self) -> str:
        """The timezone a series keeps its wall-clock time in: the mentor's (the organizer)."""
        return self.mentor_side.zone


async def sides(session: AsyncSession, program: Program, pairing: Pairing) -> Sides:
    """The pairing's two people with their timezones and the program's working hours."""
    people = await people_by_id(session, [pairing.mentee_id, pairing.mentor_id])
    mentee, mentor = people[pairing.mentee_id], people[pairing.mentor_id]
    hours = program.cadence.working_hours

    def side(person: Person) -> Attendee:
        return Attendee(person.name, person.timezone or program.default_timezone, hours)

    return Sides(mentee, mentor, side(mentee), side(mentor))


def minutes_from_hours(hours_per_month: Iterable[float], *, every_days: int) -> int:
    """A meeting's length from the hours a month each side can give, and the check-in rhythm.

    The smaller of the two answers is what the pair can give; it is spread over the
    meetings a month holds at one every ``every_days`` days, rounded to 15 minutes and
    kept between 30 and 90. With no answer, :data:`DEFAULT_MINUTES`.
    """
    given = [h for h in hours_per_month if h > 0]
    if not given:
        return DEFAULT_MINUTES
    meetings_a_month = MONTH_DAYS / every_days
    minutes = min(given) * 60 / meetings_a_month
    rounded = int(ROUNDING * round(minutes / ROUNDING))
    return max(SHORTEST, min(LONGEST, rounded))


async def usual_minutes(session: AsyncSession, program: Program, pairing: Pairing) -> int:
    """How long the pair's meetings are, from their intake's hours a month (default 45)."""
    peer = program.type is ProgramType.PEER
    given: list[float] = []
    for person_id, role in (
        (pairing.mentee_id, Role.PEER if peer else Role.MENTEE),
        (pairing.mentor_id, Role.PEER if peer else Role.MENTOR),
    ):
        enrollment = await enrollment_of(session, program, person_id=person_id, role=role)
        if enrollment is None:
            continue
        for question in program.intake.for_role(role):
            answer = enrollment.answers.get(question.id)
            if question.meaning is Meaning.HOURS_PER_MONTH and isinstance(answer, int | float):
                given.append(float(answer))
    return minutes_from_hours(given, every_days=program.cadence.checkin_every_days)


@dataclass(frozen=True)
class Booked:
    """A booked meeting with the timezone its series keeps (its mentor's)."""

    meeting: Meeting
    zone: str

    def occurrences(
        self, *, after: datetime | None = None, before: datetime | None = None
    ) -> list[Occurrence]:
        """Its occurrences (see :func:`handlers.meetings.occurrences.occurrences`)."""
        return occurrences(self.meeting, zone=self.zone, after=after, before=before)

    def ahead(self, *, now: datetime) -> list[Occurrence]:
        """Its occurrences that have not started at ``now``."""
        return ahead(self.meeting, zone=self.zone, now=now)


async def _booked(
    session: AsyncSession, where: sa.ColumnElement[bool], *, default_zone: str
) -> list[Booked]:
    """Booked meetings matching ``where`` (on the meeting and its ``PAIRING``), with zones."""
    mentor = PERSON.alias("organizer")
    found = await session.exec(
        select(Meeting, mentor.c.timezone)
        .join(PAIRING, PAIRING.c.id == MEETING.c.pairing_id)
        .join(mentor, mentor.c.id == PAIRING.c.mentor_id)
        .where(MEETING.c.status == MeetingStatus.BOOKED.value, where)
        .order_by(MEETING.c.id)
    )
    return [Booked(meeting, zone or default_zone) for meeting, zone in found.all()]


async def busy_for(
    session: AsyncSession,
    person_ids: Sequence[int],
    *,
    default_zone: str,
    after: datetime,
    before: datetime,
    leave_out: int | None = None,
) -> list[Slot]:
    """Every booked mentoring meeting of these people (any pairing, either side), as slots.

    Args:
        after: Only occurrences that end after this.
        before: Only occurrences that start before this.
        leave_out: A meeting not counted (the one being moved).
    """
    conn = await session.connection()
    people = among(conn, PAIRING.c.mentee_id, ids=list(person_ids))
    others = among(conn, PAIRING.c.mentor_id, ids=list(person_ids))
    where = sa.or_(people, others)
    if leave_out is not None:
        where = sa.and_(where, MEETING.c.id != leave_out)
    booked = await _booked(session, where, default_zone=default_zone)
    return [o.slot for b in booked for o in b.occurrences(after=after, before=before)]


async def pairing_meetings(
    session: AsyncSession, pairing: Pairing, *, default_zone: str
) -> list[Booked]:
    """The pairing's booked meetings, oldest first.

    Usually one. A series moved from some meeting on is two: the old one ends before that
    meeting and a new one takes over (handlers.meetings.changes), so the meetings already
    held stay in both calendars as they were.
    """
    return await _booked(session, MEETING.c.pairing_id == pairing.id, default_zone=default_zone)


def upcoming(booked: Sequence[Booked], *, now: datetime) -> list[tuple[Booked, Occurrence]]:
    """Every occurrence that has not started at ``now``, with its meeting, in time order.

    One in progress is held, not upcoming: ``status`` names the one after it, and
    ``move-meeting`` and ``cancel-meeting`` act on that one.
    """
    found = [(b, o) for b in booked for o in b.ahead(now=now)]
    return sorted(found, key=lambda pair: pair[1])


def last_held(booked: Sequence[Booked], *, now: datetime) -> Occurrence | None:
    """The latest occurrence of any of the meetings that has started by ``now``."""
    found = [o for b in booked for o in held(b.meeting, zone=b.zone, now=now)]
    return max(found) if found else None


async def booked_by_pairing(
    conn: AsyncConnection, pairing_ids: Sequence[int], *, default_zone: str
) -> dict[int, list[Occurrence]]:
    """The occurrences of every booked meeting of these pairings, by pairing (the due pass).

    One query for the batch; each series expanded in its mentor's timezone.
    """
    if not pairing_ids:
        return {}
    where = among(conn, MEETING.c.pairing_id, ids=sorted(set(pairing_ids)))
    return await _occurrences_where(conn, where, default_zone=default_zone)


async def booked_in_program(
    conn: AsyncConnection, program: Program, *, statuses: Sequence[str]
) -> dict[int, list[Occurrence]]:
    """The occurrences of the booked meetings of a program's pairings in these statuses."""
    where = sa.and_(PAIRING.c.program == program.id, PAIRING.c.status.in_(list(statuses)))
    return await _occurrences_where(conn, where, default_zone=program.default_timezone)


async def _occurrences_where(
    conn: AsyncConnection, where: sa.ColumnElement[bool], *, default_zone: str
) -> dict[int, list[Occurrence]]:
    """The occurrences of the booked meetings matching ``where``, by pairing."""
    mentor = PERSON.alias("organizer")
    rows = await conn.execute(
        sa.select(MEETING, mentor.c.timezone.label("organizer_zone"))
        .join(PAIRING, PAIRING.c.id == MEETING.c.pairing_id)
        .join(mentor, mentor.c.id == PAIRING.c.mentor_id)
        .where(MEETING.c.status == MeetingStatus.BOOKED.value, where)
    )
    found: dict[int, list[Occurrence]] = {}
    for row in rows.mappings().all():
        meeting = Meeting(**{k: v for k, v in row.items() if k != "organizer_zone"})
        zone = row["organizer_zone"] or default_zone
        found.setdefault(meeting.pairing_id, []).extend(occurrences(meeting, zone=zone))
    for listed in found.values():
        listed.sort()
    return found


async def open_offer(session: AsyncSession, pairing_id: int) -> Meeting | None:
    """The pairing's offer no one has answered yet, if any."""
    found = await session.exec(
        select(Meeting)
        .where(Meeting.pairing_id == pairing_id, Meeting.status == MeetingStatus.OFFERED.value)
        .order_by(sa.desc(MEETING.c.id))
    )
    return found.first()


async def declined_slots(session: AsyncSession, pairing_id: int, *, now: datetime) -> list[Slot]:
    """The slots the pairing was offered before and turned down, still to come."""
    found = await session.exec(
        select(Meeting).where(
            Meeting.pairing_id == pairing_id, Meeting.status == MeetingStatus.DECLINED.value
        )
    )
    return [
        slot
        for meeting in found.all()
        for slot in (Slot(instant(s["start"]), instant(s["end"])) for s in meeting.offered)
        if slot.start > now
    ]


async def changed(
    session: AsyncSession, program: Program, *, meeting: Meeting, now: datetime
) -> None:
    """A meeting changed (booked, moved, cancelled): raise its sequence, send the invites.

    The sequence grows with every change, so calendars replace the invite they hold.
    """
    meeting.sequence += 1
    meeting.updated_at = now
    session.add(meeting)
    await session.flush()
    await invites.send_invites(session, program=program, meeting=meeting, now=now)


def cancel_ahead(meeting: Meeting, *, zone: str, now: datetime) -> bool:
    """Cancel what is still ahead of a booked meeting; the meetings already held stay.

    A meeting that has started is held, even while it is going on
    (handlers.meetings.occurrences.ahead): it stays. A meeting with nothing held yet (a
    one-off to come, a series not begun) is cancelled whole, so its invite becomes a
    ``CANCEL``. A series with meetings held ends at the last of them (``until``), as a
    calendar ends a series at "this and following": its invite goes again as the shorter
    series, so the meetings held stay in both calendars and in the pairing's history
    (``status``, ``log``'s day, the cadence report). One of its earlier meetings moved to a
    time still ahead is cancelled on its own.

    Only the row changes; the caller raises its sequence and sends the invites
    (:func:`changed`).

    Args:
        zone: The organizer's (mentor's) timezone, whose wall-clock time a series keeps.

    Returns:
        Whether the whole meeting was cancelled.
    """
    behind = held(meeting, zone=zone, now=now)
    if not behind or not meeting.every_days:
        meeting.status = MeetingStatus.CANCELLED.value
        meeting.cancelled_at = now
        return True
    last = max(o.original for o in behind)
    coming = {o.original for o in ahead(meeting, zone=zone, now=now)}
    kept = [
        e
        for e in meeting.exceptions
        if instant(e["original"]) <= last and instant(e["original"]) not in coming
    ]
    cancelled = [
        {"original": original.isoformat(), "moved_to": None}
        for original in sorted(coming)
        if original <= last
    ]
    meeting.exceptions = kept + cancelled
    meeting.until = last
    return False


async def cancel_all_ahead(
    session: AsyncSession, program: Program, *, booked: Sequence[Booked], now: datetime
) -> list[Meeting]:
    """:func:`cancel_ahead` for each of these meetings that has one still ahead, each
    change sent to both calendars (:func:`changed`); meetings wholly held stay as they are.

    Returns:
        The meetings changed, in the order given.
    """
    done: list[Meeting] = []
    for each in booked:
        if not each.ahead(now=now):
            continue
        cancel_ahead(each.meeting, zone=each.zone, now=now)
        await changed(session, program, meeting=each.meeting, now=now)
        done.append(each.meeting)
    return done


async def withdraw_offers(session: AsyncSession, pairing_id: int, *, now: datetime) -> int:
    """Withdraw the pairing's offers no one has picked yet (the pairing is ending).

    Their buttons then say the offer was withdrawn when the pairing ended
    (handlers.meetings.offers), instead of offering a time to a pairing that is over.

    Returns:
        How many offers were withdrawn.
    """
    conn = await session.connection()
    result = await conn.execute(
        sa.update(MEETING)
        .where(
            MEETING.c.pairing_id == pairing_id,
            MEETING.c.status == MeetingStatus.OFFERED.value,
        )
        .values(status=MeetingStatus.WITHDRAWN.value, updated_at=now)
    )
    return int(result.rowcount or 0)


async def cancel_pairing_meetings(
    session: AsyncSession, program: Program, *, pairing: Pairing, now: datetime
) -> list[Meeting]:
    """Cancel every meeting of an ending pairing still ahead, in both calendars, and
    withdraw its offers no one picked (:func:`withdraw_offers`).

    As ``cancel-meeting series`` does (:func:`cancel_all_ahead`): a meeting with none held
    yet goes as a ``CANCEL``; a series with meetings held ends at the last of them, so
    those stay in both calendars. Meetings wholly in the past are left as they are.
    """
    assert pairing.id is not None
    await withdraw_offers(session, pairing.id, now=now)
    booked = await pairing_meetings(session, pairing, default_zone=program.default_timezone)
    return await cancel_all_ahead(session, program, booked=booked, now=now)


def run_on(meeting: Meeting, *, zone: str, until: datetime, now: datetime) -> None:
    """Run a series on to a later end: the pair continues for another cycle.

    Its ``until`` moves to the new cycle's end; its ``UID`` stays, so calendars update the
    series they hold (the caller raises its sequence and sends the invites:
    :func:`changed`). The occurrences it would have had after its old end and up to
    ``now`` (between the cycles, while it was in no calendar) are cancelled, so no meeting
    shows up in the calendars, the pairing's history or ``log``'s day that nobody had.

    Args:
        zone: The organizer's (mentor's) timezone, whose wall-clock time a series keeps.
    """
    assert meeting.every_days
    assert meeting.until is not None
    old = meeting.until
    meeting.until = until
    between = [o for o in originals(meeting, zone=zone) if old < o <= now]
    meeting.exceptions = [
        *meeting.exceptions,
        *({"original": o.isoformat(), "moved_to": None} for o in between),
    ]


async def run_series_on(
    session: AsyncSession,
    program: Program,
    *,
    pairing: Pairing,
    old_end: datetime,
    until: datetime,
    now: datetime,
) -> list[Meeting]:
    """A pairing continues for another cycle: its series that ran to the old cycle's end
    run on to the new one's (:func:`run_on`), each sent again to both calendars.

    A series ended early (``cancel-meeting series``, a move that split it: its earlier
    part) and a one-off stay as they are: the pair chose to stop them, or never meant a
    rhythm.

    Args:
        old_end: When the cycle that ended ended (the series booked in it run to it).
        until: When the new cycle ends.

    Returns:
        The series run on, in the order booked.
    """
    booked = await pairing_meetings(session, pairing, default_zone=program.default_timezone)
    done: list[Meeting] = []
    for each in booked:
        meeting = each.meeting
        if not meeting.every_days or meeting.until is None or meeting.until < old_end:
            continue
        run_on(meeting, zone=each.zone, until=until, now=now)
        await changed(session, program, meeting=meeting, now=now)
        done.append(meeting)
    return done
