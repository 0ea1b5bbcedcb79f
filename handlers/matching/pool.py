"""A matching round's pool: mentees waiting for a match and mentors, or peers, as profiles.

The pool is read from ONE program's enrollments and pairings and the directory at the start
of a round (:func:`load_pool`): a person in two programs is in each program's pool on its
own terms, and a mentor's free places count only that program's open pairings. Paused
enrollments are not in it at all. It also carries what the hard rules need: who was paired
or declined before, whose proposal lapsed, and the management chains (:func:`load_managers`).

A ``peer`` program's pool holds its peers instead (``Pool.peers``): everyone enrolled as a
peer, not paused, who is on neither side of an open pairing of the program.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.program import Meaning, Program, ProgramType, Question
from storage import (
    OPEN_PAIRING,
    Enrollment,
    EnrollmentStatus,
    Pairing,
    PairingStatus,
    Person,
    Role,
)


@dataclass(frozen=True)
class Profile:
    """One side of a possible pairing: the person and what their intake said.

    Attributes:
        person_id: The directory person.
        role: ``mentee``, ``mentor`` or ``peer``.
        competencies: Competency ids a mentee (or peer) wants to develop, or a mentor's
            strengths.
        strengths: What a peer can help others with (``meaning: strengths``); () otherwise.
        formats: Formats wanted (mentee) or offered (mentor).
        text: Goals (mentee), or bio (mentor): what goal fit compares.
        free: A mentor's free places (capacity minus open pairings); 0 for mentees.
        waiting_since: Since when a mentee has waited for a match.
    """

    person_id: int
    name: str
    email: str
    role: Role
    department: str | None
    title: str | None
    level: int | None
    timezone: str
    competencies: tuple[str, ...] = ()
    strengths: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    text: str = ""
    free: int = 0
    capacity: int = 0
    waiting_since: datetime | None = None
    answers: dict[str, Any] = field(default_factory=dict)

    @property
    def first_name(self) -> str:
        """The name people are addressed by."""
        return self.name.split()[0] if self.name else self.email


@dataclass
class Pool:
    """Everyone a matching round considers, and what it must respect.

    Attributes:
        mentees: Mentees waiting for a match, longest-waiting first.
        mentors: Mentors available in the program, whether or not they have free places.
        together: (mentee, mentor) person ids kept apart for good: paired before, or a
            proposal declined.
        managers: Each person's manager (person id to person id).
        paused_mentors: How many enrolled mentors are paused.
        lapsed: (mentee, mentor) person ids whose proposal lapsed unanswered, and not kept
            apart otherwise: allowed, after the mentee's other options.
        peers: A peer program's peers who are free to pair, longest-waiting first (the
            mentee and mentor lists are then empty).
        paused_peers: How many enrolled peers are paused.
    """

    mentees: list[Profile]
    mentors: list[Profile]
    together: set[tuple[int, int]]
    managers: dict[int, int | None]
    paused_mentors: int = 0
    lapsed: set[tuple[int, int]] = field(default_factory=set)
    peers: list[Profile] = field(default_factory=list)
    paused_peers: int = 0


def _by_meaning(questions: Sequence[Question]) -> dict[Meaning, str]:
    return {q.meaning: q.id for q in questions if q.meaning is not None}


def _as_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    if isinstance(value, str) and value:
        return (value,)
    return ()


def profile_of(
    program: Program,
    person: Person,
    *,
    enrollment: Enrollment | None,
    role: Role,
    taken: int = 0,
) -> Profile:
    """A person's side of a pairing (with no enrollment: the directory's facts only)."""
    meanings = _by_meaning(program.intake.for_role(role))
    answers = (enrollment.answers if enrollment else None) or {}

    def answer(meaning: Meaning) -> Any:
        key = meanings.get(meaning)
        return answers.get(key) if key else None

    assert person.id is not None
    text_meaning = Meaning.BIO if role is Role.MENTOR else Meaning.GOALS
    capacity = (enrollment.capacity if enrollment else None) or 0
    return Profile(
        person_id=person.id,
        name=person.name,
        email=person.email,
        role=role,
        department=person.department,
        title=person.title,
        level=person.level,
        timezone=person.timezone or program.default_timezone,
        competencies=_as_tuple(answer(Meaning.COMPETENCIES)),
        strengths=_as_tuple(answer(Meaning.STRENGTHS)) if role is Role.PEER else (),
        formats=_as_tuple(answer(Meaning.FORMATS)),
        text=str(answer(text_meaning) or ""),
        free=max(0, capacity - taken) if role is Role.MENTOR else 0,
        capacity=capacity,
        waiting_since=(enrollment.waiting_since or enrollment.enrolled_at) if enrollment else None,
        answers=dict(answers),
    )


async def load_pool(session: AsyncSession, program: Program) -> Pool:
    """Everyone the next matching round of ``program`` considers, in a handful of queries."""
    if program.type is ProgramType.PEER:
        return await _load_peer_pool(session, program)
    program_id = program.id
    open_statuses = [s.value for s in OPEN_PAIRING]
    pairings = (await session.exec(select(Pairing).where(Pairing.program == program_id))).all()
    # A proposal a program lead lifted (``unexclude``) keeps nobody apart.
    kept = [p for p in pairings if p.unexcluded_at is None]
    together = {(p.mentee_id, p.mentor_id) for p in kept if p.status != PairingStatus.EXPIRED}
    lapsed = {(p.mentee_id, p.mentor_id) for p in kept if p.status == PairingStatus.EXPIRED}
    lapsed -= together
    busy_mentees = {p.mentee_id for p in pairings if p.status in open_statuses}
    taken: dict[int, int] = {}
    for pairing in pairings:
        if pairing.status in open_statuses:
            taken[pairing.mentor_id] = taken.get(pairing.mentor_id, 0) + 1
    rows = (
        await session.exec(
            select(Enrollment, Person)
            .join(Person, Person.id == Enrollment.person_id)  # type: ignore[arg-type]
            .where(
                Enrollment.program == program_id,
                sa.or_(
                    sa.and_(
                        Enrollment.role == Role.MENTEE.value,  # type: ignore[arg-type]
                        Enrollment.status == EnrollmentStatus.WAITING.value,  # type: ignore[arg-type]
                    ),
                    sa.and_(
                        Enrollment.role == Role.MENTOR.value,  # type: ignore[arg-type]
                        Enrollment.status.in_(  # type: ignore[attr-defined]
                            [EnrollmentStatus.AVAILABLE.value, EnrollmentStatus.PAUSED.value]
                        ),
                    ),
                ),
            )
        )
    ).all()
    mentees: list[Profile] = []
    mentors: list[Profile] = []
    paused = 0
    for enrollment, person in rows:
        assert person.id is not None
        if enrollment.status == EnrollmentStatus.PAUSED:
            paused += 1
        elif enrollment.role == Role.MENTEE.value:
            if person.id not in busy_mentees:
                mentees.append(profile_of(program, person, enrollment=enrollment, role=Role.MENTEE))
        else:
            mentors.append(
                profile_of(
                    program,
                    person,
                    enrollment=enrollment,
                    role=Role.MENTOR,
                    taken=taken.get(person.id, 0),
                )
            )
    mentees.sort(key=_earliest)
    mentors.sort(key=lambda p: p.person_id)
    managers = await load_managers(session)
    return Pool(
        mentees=mentees,
        mentors=mentors,
        together=together,
        managers=managers,
        paused_mentors=paused,
        lapsed=lapsed,
    )


#: A peer's enrollment statuses that count as free to pair (a fresh peer enrollment is
#: ``available``; ``waiting`` is taken too, so either reading of "waiting for a partner" works).
PEER_FREE = (EnrollmentStatus.AVAILABLE.value, EnrollmentStatus.WAITING.value)


def _earliest(profile: Profile) -> tuple[datetime, int]:
    return (profile.waiting_since or datetime.max.replace(tzinfo=UTC), profile.person_id)


async def _load_peer_pool(session: AsyncSession, program: Program) -> Pool:
    """A peer program's pool: its free peers, and what keeps pairs apart (both ways)."""
    pairings = (await session.exec(select(Pairing).where(Pairing.program == program.id))).all()
    kept = [p for p in pairings if p.unexcluded_at is None]
    together: set[tuple[int, int]] = set()
    lapsed: set[tuple[int, int]] = set()
    for p in kept:
        found = lapsed if p.status == PairingStatus.EXPIRED else together
        found |= {(p.mentee_id, p.mentor_id), (p.mentor_id, p.mentee_id)}
    lapsed -= together
    open_statuses = [s.value for s in OPEN_PAIRING]
    busy = {
        person
        for p in pairings
        if p.status in open_statuses
        for person in (p.mentee_id, p.mentor_id)
    }
    rows = (
        await session.exec(
            select(Enrollment, Person)
            .join(Person, Person.id == Enrollment.person_id)  # type: ignore[arg-type]
            .where(
                Enrollment.program == program.id,
                Enrollment.role == Role.PEER.value,
                Enrollment.status.in_([*PEER_FREE, EnrollmentStatus.PAUSED.value]),  # type: ignore[attr-defined]
            )
        )
    ).all()
    peers: list[Profile] = []
    paused = 0
    for enrollment, person in rows:
        assert person.id is not None
        if enrollment.status == EnrollmentStatus.PAUSED:
            paused += 1
        elif person.id not in busy:
            peers.append(profile_of(program, person, enrollment=enrollment, role=Role.PEER))
    peers.sort(key=_earliest)
    return Pool(
        mentees=[],
        mentors=[],
        together=together,
        managers=await load_managers(session),
        lapsed=lapsed,
        peers=peers,
        paused_peers=paused,
    )


async def load_managers(session: AsyncSession) -> dict[int, int | None]:
    """Each directory person's manager, by person id: the management chains."""
    result = await session.exec(select(Person.id, Person.manager_id))
    return {int(pid): mid for pid, mid in result.all() if pid is not None}
