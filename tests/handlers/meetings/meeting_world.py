"""Meetings booked straight into the database, and the invites they send, for the tests."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

import icalendar

from handlers.core.messages import Reply
from handlers.core.outbox import take_waiting
from handlers.meetings.ics import problems
from handlers.meetings.invites import send_invites
from storage import Meeting, Pairing, Person
from tests.handlers.cycle_world import World

_numbers = itertools.count(1)


async def book(world: World, pairing: Pairing, *, starts_at: datetime, **fields: Any) -> Meeting:
    """A meeting row as booking leaves it (booked unless told otherwise), invites sent."""
    now = world.clock.now()
    assert pairing.id is not None
    async with world.database.session() as session:
        meeting = Meeting(
            pairing_id=pairing.id,
            program=pairing.program,
            status=fields.pop("status", "booked"),
            uid=f"meeting-{next(_numbers)}@mentorbot.test",
            minutes=fields.pop("minutes", 45),
            starts_at=starts_at,
            created_at=now,
            updated_at=now,
            **fields,
        )
        session.add(meeting)
        await session.flush()
        await send_invites(session, program=world.program, meeting=meeting, now=now)
        session.expunge(meeting)
    return meeting


async def change(world: World, meeting: Meeting, **fields: Any) -> Meeting:
    """Change a booked meeting as booking does (its sequence raised), invites sent again."""
    now = world.clock.now()
    async with world.database.session() as session:
        row = await session.get(Meeting, meeting.id)
        assert row is not None
        for name, value in fields.items():
            setattr(row, name, value)
        row.sequence += 1
        row.updated_at = now
        if row.status == "cancelled":
            row.cancelled_at = now
        await session.flush()
        await send_invites(session, program=world.program, meeting=row, now=now)
        session.expunge(row)
    return row


async def waiting(world: World, person: Person) -> list[Reply]:
    """The person's waiting messages, taken as the shell takes them (through the outbox)."""
    assert person.id is not None
    async with world.database.session() as session:
        return await take_waiting(
            session, person_id=person.id, channel="shell", now=world.clock.now()
        )


def only_invite(replies: list[Reply]) -> tuple[Reply, icalendar.Calendar]:
    """The one message with an invite, and its file parsed back (after checking it)."""
    [reply] = [r for r in replies if r.attachment is not None]
    assert reply.attachment is not None
    assert reply.attachment.media_type == "text/calendar"
    assert reply.attachment.filename.endswith(".ics")
    assert problems(reply.attachment.content) == []
    return reply, icalendar.Calendar.from_ical(reply.attachment.content)
