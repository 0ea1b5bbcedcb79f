"""Naming the program in what a person reads about a pairing, when they are in several.

Someone in one program knows which program a message is about. Someone who is a mentee
in one program and a mentor in another does not: "It's been 14 days since your last
session with Dana" could be either. So every message about a pairing is opened with the
program's name (:func:`in_program`: "In Reverse Mentoring 2027: ...") for a reader who
has kept (not left) enrollments in two programs or more (:func:`in_several`), and for a
lead who leads several programs (:func:`leading_several`). Everyone else reads exactly
what they read before there were several programs.

This module is the one place that decides it: the due pass asks :func:`in_several` once
per batch (handlers.cycle.due_pass), a command asks it for the one reader it tells
(:func:`for_reader`), and ``status`` and the "which pairing?" question ask it for the
person typing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.messages import Reply
from handlers.core.program import Program
from handlers.core.programs import Programs
from storage import EnrollmentStatus, Person
from storage.queries import among
from storage.tables import ENROLLMENT


def opening(program: Program) -> str:
    """The words that open a message about a pairing of ``program``."""
    return f"In {program.name}: "


def in_program(reply: Reply, program: Program) -> Reply:
    """The reply opened with the program's name (its day counts, if any, kept counting)."""
    words = opening(program)
    counted = (words, *reply.counted) if reply.counted else ()
    return replace(reply, text=words + reply.text, counted=counted)


async def in_several(session: AsyncSession, person_ids: Iterable[int]) -> set[int]:
    """Those of ``person_ids`` with kept enrollments in two programs or more, in one query.

    An enrollment the person left does not count: someone who left one of two programs is
    in one program again, and reads messages as a one-program person does.
    """
    ids = sorted(set(person_ids))
    if not ids:
        return set()
    conn = await session.connection()
    found = await conn.execute(
        sa.select(ENROLLMENT.c.person_id)
        .where(
            among(conn, ENROLLMENT.c.person_id, ids=ids),
            ENROLLMENT.c.status != EnrollmentStatus.LEFT.value,
        )
        .group_by(ENROLLMENT.c.person_id)
        .having(sa.func.count(sa.distinct(ENROLLMENT.c.program)) > 1)
    )
    return set(found.scalars())


def leading_several(programs: Programs | None, leads: Iterable[Person]) -> set[int]:
    """The leads among ``leads`` who lead more than one of the file's programs."""
    if programs is None or not programs.several:
        return set()
    return {
        lead.id for lead in leads if lead.id is not None and len(programs.led_by(lead.email)) > 1
    }


async def for_reader(
    session: AsyncSession, program: Program, *, person_id: int, replies: Sequence[Reply]
) -> list[Reply]:
    """``replies`` about a pairing of ``program`` as ``person_id`` should read them."""
    if person_id in await in_several(session, [person_id]):
        return [in_program(reply, program) for reply in replies]
    return list(replies)


async def for_readers(
    session: AsyncSession, program: Program, *, person_ids: Iterable[int], replies: Sequence[Reply]
) -> list[Reply]:
    """One message several people read together (an introduction in a group conversation).

    It names the program when any of them is in several programs: the message is the same
    for all, and naming the program tells the others nothing wrong.
    """
    if await in_several(session, person_ids):
        return [in_program(reply, program) for reply in replies]
    return list(replies)
