"""Erasure (``privacy forget``): a person is forgotten, their records' figures stay.

:func:`forget_person` turns the person's row into an anonymous tombstone, so the pairings,
circles and feedback that point at it still count in the program's figures, while
everything that says who they were or what they said goes: their own free text, their
platform accounts, their calendar feed, and every mention of them in others' records and
queued messages (scrubbed in every form a name or email is written, folded invites too).
Their open pairings end and the other side is told; circles are left through
handlers.circles.erasure.
"""

from __future__ import annotations

import json
import logging
import re
import string
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.circles.erasure import leave_circles
from handlers.core.audit import record
from handlers.core.errors import NotALead
from handlers.core.messages import Reply
from handlers.core.outbox import enqueue
from handlers.core.program import Program, QuestionType
from handlers.core.programs import Programs
from handlers.cycle.ending import end_pairing
from handlers.meetings import ics
from handlers.people.lookups import pairings_of
from handlers.people.retention import NO_NOTES
from storage import (
    OPEN_PAIRING,
    AuditEntry,
    CalendarFeed,
    Circle,
    CircleFeedback,
    CircleMember,
    CircleSession,
    ConversationRef,
    ConversationState,
    Database,
    DueItem,
    Enrollment,
    Feedback,
    Milestone,
    Outbox,
    Pairing,
    PairingStatus,
    Person,
    PlanVersion,
    PlatformAccount,
    SessionLog,
)
from storage.queries import person_by_email

log = logging.getLogger(__name__)

#: What an erased person's row says instead of their name.
ERASED_NAME = "Former participant"
#: What replaces the erased person's name wherever others' records mention it.
ERASED_MENTION = "a former participant"


@dataclass(frozen=True)
class Erasure:
    """What an erasure did, in counts (never what was erased).

    Attributes:
        reference: The opaque reference the audit log and others' records now use.
        pairings_ended: Open pairings and proposals that ended; the other side was told.
        compacted: On SQLite, whether the file was rewritten so deleted pages are gone
            (False when another process kept the write-ahead log busy).
        circles_left: Open circles (proposed or running) the person was taken out of; the
            others in each were told (handlers.circles.erasure).
    """

    reference: str
    pairings_ended: int
    compacted: bool
    circles_left: int = 0


def _erased_email(person_id: int) -> str:
    # ``.invalid`` is reserved (RFC 2606): no one can ever sign in with it.
    return f"erased-{person_id}@erased.invalid"


_Patterns = list[tuple[re.Pattern[str], str]]


@dataclass(frozen=True)
class _Mentions:
    """How an erased person is mentioned, and what each mention becomes.

    Attributes:
        needles: What a column's text is searched for (in their case; calendar forms too).
        text: In a message, a note or a log: their email and name.
        calendar: In an invite, unfolded first (a long name or email folds across lines):
            their email becomes the tombstone's, so ``mailto:`` stays an address, and their
            name in each form a file writes it.
    """

    needles: list[str]
    text: _Patterns
    calendar: _Patterns


def _mentions_of(person: Person, reference: str) -> _Mentions:
    assert person.id is not None
    name = person.name.strip()
    email = re.compile(re.escape(person.email), re.IGNORECASE)
    # Longest first, so a form that holds another is replaced whole.
    forms = sorted(ics.name_forms(name), key=len, reverse=True)
    by_name = [(re.compile(re.escape(form), re.IGNORECASE), ERASED_MENTION) for form in forms]
    return _Mentions(
        needles=sorted({person.email, *forms}),
        text=[(email, reference)]
        + ([(re.compile(re.escape(name), re.IGNORECASE), ERASED_MENTION)] if name else []),
        calendar=[(email, _erased_email(person.id)), *by_name],
    )


def _substituted(text: str, patterns: _Patterns) -> str:
    for pattern, replacement in patterns:
        text = pattern.sub(replacement, text)
    return text


def _scrubbed(value: Any, mentions: _Mentions) -> Any:
    """The value with every mention replaced, through nested lists and dicts."""
    if isinstance(value, str):
        if ics.is_calendar(value):
            # Matched on the unfolded file, and folded again only if it changed.
            unfolded = ics.unfold(value)
            scrubbed = _substituted(unfolded, mentions.calendar)
            return value if scrubbed == unfolded else ics.fold(scrubbed)
        return _substituted(value, mentions.text)
    if isinstance(value, list):
        return [_scrubbed(v, mentions) for v in value]
    if isinstance(value, dict):
        return {_scrubbed(k, mentions): _scrubbed(v, mentions) for k, v in value.items()}
    return value


#: A folded line's break, as a column's text holds it: as is, or escaped in JSON.
_FOLDS = tuple(
    form for fold in ("\r\n ", "\r\n\t", "\n ", "\n\t") for form in (json.dumps(fold)[1:-1], fold)
)


#: Lower-cases ASCII letters only, as SQLite's ``lower()`` does (and PostgreSQL's in the
#: C locale).
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _search_forms(needle: str) -> set[str]:
    """What a column's lower-cased text holds where it mentions ``needle``.

    As typed and as JSON writes it (``\\u00c9`` on SQLite, ``"É"`` in PostgreSQL's JSONB,
    quotes and backslashes escaped), in the needle's case, lower and upper case; each
    lower-cased the way the database may do it: fully, or ASCII letters only (JSON's
    escapes are not lower-cased by either: the needle's case must be kept until then).
    """
    found: set[str] = set()
    for variant in {needle, needle.lower(), needle.upper()}:
        for written in (
            variant,
            json.dumps(variant)[1:-1],
            json.dumps(variant, ensure_ascii=False)[1:-1],
        ):
            found |= {written.lower(), written.translate(_ASCII_LOWER)}
    return found


def _mentions(column: Any, needles: list[str]) -> Any:
    """SQL: the column's text mentions a needle (see :func:`_search_forms`), folded lines
    of an iCalendar file joined first."""
    text = sa.func.lower(sa.cast(column, sa.Text))
    for fold in _FOLDS:
        text = sa.func.replace(text, fold, "")
    forms = {form for needle in needles for form in _search_forms(needle)}
    return sa.or_(*(text.contains(form, autoescape=True) for form in sorted(forms)))


#: Columns where others' records may mention a person by name or email: the messages
#: queued for others, others' flows in progress, plans, surveys, notes of other pairings,
#: circles' reasons, goals, session notes and pulses, due items' answers and the audit log.
_MENTIONING: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (Outbox, ("payload", "last_error")),
    (ConversationState, ("data",)),
    (Pairing, ("reasons",)),
    (Milestone, ("objective",)),
    (PlanVersion, ("milestones",)),
    (Feedback, ("answers",)),
    (SessionLog, ("notes", "second_notes", "summary")),
    (Circle, ("reasons", "goals")),
    (CircleMember, ("reasons",)),
    (CircleSession, ("notes",)),
    (CircleFeedback, ("answers",)),
    (DueItem, ("answers",)),
    (AuditEntry, ("actor", "target", "detail")),
)


#: Rows that are the person's own and go whole: intake answers, flows in progress,
#: platform links, proactive references, messages waiting for them, and their calendar
#: feed (its link then answers like an unknown one).
_THEIRS: tuple[Any, ...] = (
    Enrollment,
    ConversationState,
    PlatformAccount,
    ConversationRef,
    Outbox,
    CalendarFeed,
)


async def _scrub_mentions(session: AsyncSession, mentions: _Mentions) -> None:
    conn = await session.connection()
    for model, names in _MENTIONING:
        table = model.__table__
        columns = [table.c[name] for name in names]
        found = await conn.execute(
            sa.select(table.c.id, *columns).where(
                sa.or_(*(_mentions(column, mentions.needles) for column in columns))
            )
        )
        for row in found.all():
            values = {name: _scrubbed(row[i + 1], mentions) for i, name in enumerate(names)}
            await conn.execute(sa.update(table).where(table.c.id == row[0]).values(**values))


def _farewell(pairing: Pairing, erased_is_mentor: bool) -> str:
    """What the other side of an ended pairing is told; the erased person is not named."""
    active = pairing.status == PairingStatus.ACTIVE
    if erased_is_mentor:
        if active:
            return (
                "Your mentor has left the mentoring program, so your pairing has ended. "
                "It's no reflection on you: you're back on the waitlist with the place you "
                "had before, and the next match round will find you someone new."
            )
        return (
            "The mentor proposed to you has left the mentoring program, so the proposal is "
            "withdrawn. You keep your place on the waitlist."
        )
    if active:
        return (
            "Your mentee has left the mentoring program, so your pairing has ended. Thank "
            "you for everything you gave them; your place is free for a new mentee."
        )
    return (
        "The mentee proposed to you has left the mentoring program, so the proposal is "
        "withdrawn and your place is free again."
    )


async def _erase(
    session: AsyncSession, programs: Programs, person: Person, actor: str, now: datetime
) -> tuple[str, int, int]:
    """Erase one person in the caller's transaction; returns the reference, the pairings
    ended and the open circles left."""
    assert person.id is not None
    person_id = person.id
    reference = f"person:{person_id}"
    mentions = _mentions_of(person, reference)
    ended = 0
    # The other side of each open pairing is told kindly, without the name, and the pairing
    # ends as if the person had left (a mentor's mentee keeps their waitlist place).
    for pairing in await pairings_of(session, None, person_id=person_id, statuses=OPEN_PAIRING):
        program = programs.of(pairing.program)
        erased_is_mentor = pairing.mentor_id == person_id
        status_before = pairing.model_copy()
        if not await end_pairing(
            session, program, pairing=pairing, now=now, reason="left", rematch=erased_is_mentor
        ):
            continue
        ended += 1
        other = pairing.mentee_id if erased_is_mentor else pairing.mentor_id
        await enqueue(
            session,
            person_id=other,
            replies=[Reply(_farewell(status_before, erased_is_mentor), title="Pairing ended")],
            dedupe_key=f"pairing:{pairing.id}:erased",
            now=now,
            program=program,
            pairing_id=pairing.id,
        )
    # Their open circles go on without them (or end, when they facilitated one).
    circles_left = await leave_circles(session, programs, person_id=person_id, now=now)
    conn = await session.connection()
    pairing_table = Pairing.__table__  # type: ignore[attr-defined]
    theirs = sa.or_(pairing_table.c.mentee_id == person_id, pairing_table.c.mentor_id == person_id)
    pairing_ids = sa.select(pairing_table.c.id).where(theirs).scalar_subquery()
    # Their pairings stay, as anonymous records: the reasons quote intake answers.
    await conn.execute(sa.update(pairing_table).where(theirs).values(reasons=[]))
    await conn.execute(
        sa.update(pairing_table)
        .where(pairing_table.c.proposed_by == person_id)
        .values(proposed_by=None)
    )
    sessions = SessionLog.__table__  # type: ignore[attr-defined]
    await conn.execute(
        sa.update(sessions).where(sessions.c.pairing_id.in_(pairing_ids)).values(**NO_NOTES)
    )
    # Feedback they gave keeps its ratings (figures) and loses what they wrote in words.
    await _drop_written_answers(session, programs, person_id)
    await _leave_circle_rows(session, programs, person_id)
    for model in _THEIRS:
        table = model.__table__
        await conn.execute(sa.delete(table).where(table.c.person_id == person_id))
    people = Person.__table__  # type: ignore[attr-defined]
    await conn.execute(
        sa.update(people).where(people.c.manager_id == person_id).values(manager_id=None)
    )
    # The row stays as a tombstone: pairings, sessions and feedback point at it, so the
    # program's counts (pairs, respondents) stay true, and nothing in it says who it was.
    await conn.execute(
        sa.update(people)
        .where(people.c.id == person_id)
        .values(
            email=_erased_email(person_id),
            name=ERASED_NAME,
            department=None,
            title=None,
            level=None,
            manager_id=None,
            timezone=None,
            location=None,
            attributes={},
            updated_at=now,
        )
    )
    await _scrub_mentions(session, mentions)
    await record(
        session,
        actor=reference if actor.strip().lower() == person.email.lower() else actor,
        action="forget",
        now=now,
        target=reference,
    )
    return reference, ended, circles_left


def _ratings(program: Program, survey: str, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers without what was written in words (or to a question no longer known)."""
    try:
        questions = program.feedback.surveys.of(survey)
    except (AttributeError, KeyError, ValueError):
        questions = []
    known = {q.id: q.type for q in questions}
    return {
        key: value
        for key, value in answers.items()
        if key in known and known[key] is not QuestionType.TEXT
    }


async def _drop_written_answers(session: AsyncSession, programs: Programs, person_id: int) -> None:
    given = (await session.exec(select(Feedback).where(Feedback.respondent_id == person_id))).all()
    table = Feedback.__table__  # type: ignore[attr-defined]
    conn = await session.connection()
    for feedback in given:
        if not feedback.answers:
            continue
        pairing = await session.get(Pairing, feedback.pairing_id)
        program = programs.of(pairing.program) if pairing is not None else programs.first
        kept = _ratings(program, feedback.survey, feedback.answers)
        await conn.execute(sa.update(table).where(table.c.id == feedback.id).values(answers=kept))


async def _leave_circle_rows(session: AsyncSession, programs: Programs, person_id: int) -> None:
    """What is the person's own in circle rows goes; what counts stays, anonymous.

    Their places keep their role and status (a circle's size and who left it count) but
    not why they fit; their pulses keep the ratings; their attendance stays as it is (it
    points at the tombstone). The notes of sessions they logged as a facilitator go, and a
    circle's group conversation forgets the platform user it was told they are.
    """
    conn = await session.connection()
    members = CircleMember.__table__  # type: ignore[attr-defined]
    await conn.execute(
        sa.update(members).where(members.c.person_id == person_id).values(reasons=[])
    )
    sessions = CircleSession.__table__  # type: ignore[attr-defined]
    await conn.execute(
        sa.update(sessions).where(sessions.c.logged_by == person_id).values(notes=None)
    )
    circles = Circle.__table__  # type: ignore[attr-defined]
    await conn.execute(
        sa.update(circles).where(circles.c.proposed_by == person_id).values(proposed_by=None)
    )
    pulses = CircleFeedback.__table__  # type: ignore[attr-defined]
    given = await conn.execute(
        sa.select(pulses.c.id, pulses.c.program, pulses.c.survey, pulses.c.answers).where(
            pulses.c.respondent_id == person_id, pulses.c.answers.is_not(None)
        )
    )
    for pulse_id, program_id, survey, answers in given.all():
        if answers:
            kept = _ratings(programs.of(program_id), survey, answers)
            await conn.execute(
                sa.update(pulses).where(pulses.c.id == pulse_id).values(answers=kept)
            )
    await _forget_platform_users(session, person_id)


async def _forget_platform_users(session: AsyncSession, person_id: int) -> None:
    """Take the person's platform users out of what circles' conversations remember.

    A sender keeps who it invited to a circle's group conversation (a list of platform user
    ids, in the platform's own words: Slack keeps the user of ``TEAM/USER``); whichever key
    it uses, an id of theirs is dropped from every list there.
    """
    conn = await session.connection()
    accounts = PlatformAccount.__table__  # type: ignore[attr-defined]
    found = await conn.execute(
        sa.select(accounts.c.external_id).where(accounts.c.person_id == person_id)
    )
    ids = {form for (external,) in found.all() for form in (external, external.split("/")[-1])}
    if not ids:
        return
    circles = Circle.__table__  # type: ignore[attr-defined]
    members = CircleMember.__table__  # type: ignore[attr-defined]
    theirs = sa.select(members.c.circle_id).where(members.c.person_id == person_id)
    rows = await conn.execute(
        sa.select(circles.c.id, circles.c.conversation).where(circles.c.id.in_(theirs))
    )
    for circle_id, conversation in rows.all():
        kept = {
            key: [v for v in value if v not in ids] if isinstance(value, list) else value
            for key, value in (conversation or {}).items()
        }
        if kept != conversation:
            await conn.execute(
                sa.update(circles).where(circles.c.id == circle_id).values(conversation=kept)
            )


async def forget_person(
    database: Database,
    programs: Programs,
    *,
    email: str,
    now: datetime,
    requested_by: str | None = None,
) -> Erasure | None:
    """Erase a person: who they were, what they answered and wrote, and how to reach them.

    Deleted: their enrollments (intake answers), conversations in progress, platform
    accounts and proactive references, messages waiting for them, their calendar feed
    (its link then finds nothing), and the notes and summaries of every session of
    their pairings. Their row stays as an anonymous
    tombstone (``Former participant``, an ``.invalid`` email, nothing else) so pairings and
    feedback still count; their feedback keeps only its ratings. Their open pairings end
    and the other side is told, without their name; they leave their open circles, which
    go on without them or, when they facilitated one, end kindly (handlers.circles.erasure);
    mentions of their name or email in others' records become an opaque reference. On
    SQLite the erasure runs with ``secure_delete`` and the file is then checkpointed and
    vacuumed, so the old bytes are gone from the database file and its write-ahead log.

    Args:
        requested_by: The program lead who asked (of any program: an erasure covers every
            program), recorded in the audit log; None for the operator (``cli``).

    Returns:
        What was done, or None when no one in the directory has this email.

    Raises:
        NotALead: ``requested_by`` leads no program (the refusal is audited).
    """
    actor = requested_by.strip().lower() if requested_by else "cli"
    async with database.session() as session:
        if requested_by is not None and not programs.is_lead(actor):
            await record(session, actor=actor, action="forget", now=now, allowed=False)
            refused = True
        else:
            refused = False
    if refused:
        raise NotALead(f"{actor} is not a program lead")
    async with database.session() as session:
        if database.is_sqlite:
            # Deleted and overwritten cells are zeroed instead of left in free space.
            await (await session.connection()).exec_driver_sql("PRAGMA secure_delete=ON")
        person = await person_by_email(session, email)
        if person is None:
            return None
        reference, ended, circles_left = await _erase(session, programs, person, actor, now)
    compacted = await _compact(database) if database.is_sqlite else True
    return Erasure(
        reference=reference,
        pairings_ended=ended,
        compacted=compacted,
        circles_left=circles_left,
    )


async def _compact(database: Database) -> bool:
    """Rewrite a SQLite file so no freed page, and no old log frame, keeps erased bytes.

    VACUUM cannot run inside a transaction, and the engine begins every transaction with
    ``BEGIN IMMEDIATE``; so this talks to the driver's connection directly.
    """
    async with database.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        busy = False
        for statement in (
            "PRAGMA wal_checkpoint(TRUNCATE)",
            "VACUUM",
            "PRAGMA wal_checkpoint(TRUNCATE)",
        ):
            cursor = await driver.execute(statement)
            result = await cursor.fetchone()
            await cursor.close()
            if statement.startswith("PRAGMA") and result is not None and result[0]:
                busy = True
        await driver.execute("PRAGMA secure_delete=OFF")
    if busy:
        log.warning("erasure: another process kept the SQLite log busy; it is cleared later")
    return not busy
