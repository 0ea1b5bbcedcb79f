"""Each person's private calendar feed, and the ``calendar`` command that hands out its URL.

``calendar`` answers with ``{MENTORBOT_PUBLIC_URL}/calendar/{token}.ics``: a calendar app
(Google Calendar, Outlook) subscribes to it and ``serve`` answers it with
:func:`feed_for_token`. The token is ``secrets.token_urlsafe(32)`` (256 random bits); only
its SHA-256 is stored, so the URL is shown once, and ``calendar reset`` replaces it (the
old URL then finds nothing). Looking a token up hashes it first, so the database compares
hashes, never the secret, and a guess learns nothing from the time an answer takes.

The feed holds the person's booked meetings in their active pairings (a series with its
moved and cancelled occurrences) and the days their check-ins, calibration and reviews fall
due, as all-day events: titles and times only, never goals, notes or feedback, and no
``METHOD`` (a feed is not an invite).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.calendar import day_label, local_date
from handlers.core.engine import Command, Outcome, Turn
from handlers.core.messages import Reply
from handlers.core.programs import Programs
from handlers.meetings import ics
from storage import (
    CalendarFeed,
    DueItem,
    DueKind,
    DueStatus,
    Meeting,
    MeetingStatus,
    Pairing,
    PairingStatus,
    Person,
)
from storage.queries import insert_for

#: Random bytes in a feed token (43 URL-safe characters).
TOKEN_BYTES = 32
#: What a feed token looks like; anything else is not looked up at all.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43,128}")
#: The feed's name in a calendar app.
FEED_NAME = "Mentoring"
#: The dates a feed shows, and how each is titled (``{other}``: the other person's name).
DUE_TITLES = {
    DueKind.CHECKIN.value: "Mentoring check-in with {other}",
    DueKind.CALIBRATION.value: "Mentoring calibration with {other}",
    DueKind.MIDPOINT.value: "Mid-cycle mentoring review with {other}",
    DueKind.END_REVIEW.value: "End-of-cycle mentoring review with {other}",
    DueKind.QUARTERLY_REVIEW.value: "Quarterly mentoring review with {other}",
}
NO_PUBLIC_URL = (
    "Calendar feeds need the bot's public address, and it isn't set here. Ask whoever runs "
    "mentorbot to set MENTORBOT_PUBLIC_URL to the address people reach it at (for example "
    "https://mentorbot.example.com) and restart it; then type calendar again."
)


def token_hash(token: str) -> str:
    """The SHA-256 (hex) of a feed token: all that is stored of it."""
    return hashlib.sha256(token.encode()).hexdigest()


def feed_url(public_url: str, token: str) -> str:
    """The subscription URL of a token."""
    return f"{public_url.rstrip('/')}/calendar/{token}.ics"


async def issue_token(
    session: AsyncSession, *, person_id: int, now: datetime, reset: bool
) -> str | None:
    """A new feed token for the person, its hash stored; None when one exists and
    ``reset`` is False (the old URL cannot be shown again: only its hash is kept).

    With ``reset`` the stored hash is replaced, so the old URL stops working at once.
    """
    token = secrets.token_urlsafe(TOKEN_BYTES)
    digest = token_hash(token)
    conn = await session.connection()
    table = CalendarFeed.__table__  # type: ignore[attr-defined]
    if reset:
        changed = await conn.execute(
            sa.update(table)
            .where(table.c.person_id == person_id)
            .values(token_hash=digest, created_at=now)
        )
        if changed.rowcount:
            return token
    inserted = await conn.execute(
        insert_for(conn)(table)
        .values(person_id=person_id, token_hash=digest, created_at=now)
        .on_conflict_do_nothing(index_elements=["person_id"])
    )
    return token if inserted.rowcount else None


async def feed_owner(session: AsyncSession, token: str) -> int | None:
    """The person whose feed ``token`` opens, or None (unknown, replaced or malformed)."""
    if not TOKEN_SHAPE.fullmatch(token):
        return None
    digest = token_hash(token)
    result = await session.exec(select(CalendarFeed).where(CalendarFeed.token_hash == digest))
    found = result.first()
    if found is None or not hmac.compare_digest(found.token_hash, digest):
        return None
    return found.person_id


async def feed_for_token(
    session: AsyncSession, *, programs: Programs, token: str, now: datetime
) -> str | None:
    """The ``.ics`` feed that ``token`` opens, or None when it opens none."""
    person_id = await feed_owner(session, token)
    if person_id is None:
        return None
    person = await session.get(Person, person_id)
    if person is None:
        return None
    return await person_feed(session, programs=programs, person=person, now=now)


async def person_feed(
    session: AsyncSession, *, programs: Programs, person: Person, now: datetime
) -> str:
    """The person's calendar: their active pairings' booked meetings and due dates."""
    result = await session.exec(
        select(Pairing).where(
            Pairing.status == PairingStatus.ACTIVE,
            or_(Pairing.mentee_id == person.id, Pairing.mentor_id == person.id),
        )
    )
    pairings = {p.id: p for p in result.all()}
    ids = [pid for pid in pairings if pid is not None]
    people_ids = {i for p in pairings.values() for i in (p.mentee_id, p.mentor_id)}
    found = await session.exec(select(Person).where(col(Person.id).in_(people_ids)))
    people = {p.id: p for p in found.all()}
    zone = person.timezone or programs.default_timezone
    events = []
    moments: list[datetime] = []
    meetings = await session.exec(
        select(Meeting)
        .where(col(Meeting.pairing_id).in_(ids), Meeting.status == MeetingStatus.BOOKED)
        .order_by(col(Meeting.starts_at), col(Meeting.id))
    )
    for meeting in meetings.all():
        pairing = pairings[meeting.pairing_id]
        mentor, mentee = people[pairing.mentor_id], people[pairing.mentee_id]
        for event in ics.meeting_events(
            meeting,
            mentor=ics.Party(mentor.name, mentor.email),
            mentee=ics.Party(mentee.name, mentee.email),
            zone=mentor.timezone or programs.default_timezone,
            now=now,
        ):
            # A feed shows the meeting, not an invitation to answer.
            event.pop("ORGANIZER", None)
            event.pop("ATTENDEE", None)
            events.append(event)
        moments.extend(ics.meeting_moments(meeting))
    due = await session.exec(
        select(DueItem)
        .where(
            col(DueItem.pairing_id).in_(ids),
            col(DueItem.kind).in_(list(DUE_TITLES)),
            DueItem.status != DueStatus.CANCELLED,
        )
        .order_by(col(DueItem.due_at), col(DueItem.id))
    )
    for item in due.all():
        pairing = pairings[item.pairing_id]
        other = people[pairing.mentor_id if pairing.mentee_id == person.id else pairing.mentee_id]
        events.append(
            ics.day_event(
                uid=f"due-{item.id}@mentorbot",
                day=local_date(item.due_at, zone),
                title=DUE_TITLES[item.kind].format(other=other.name),
                now=now,
            )
        )
        moments.append(item.due_at)
    return ics.feed(events, name=FEED_NAME, span=ics.span_of(moments or [now]), zone=zone)


def commands(public_url: str | None) -> list[Command]:
    """``calendar`` (the feed's URL, once) and ``calendar reset`` (a new one).

    Args:
        public_url: ``MENTORBOT_PUBLIC_URL``; without it no URL can be given.
    """

    async def _calendar(turn: Turn, args: list[str]) -> Outcome:
        reset = [a.lower() for a in args] == ["reset"]
        if args and not reset:
            return _say("Type calendar for your calendar feed, or calendar reset for a new link.")
        if not public_url:
            return _say(NO_PUBLIC_URL)
        assert turn.person.id is not None
        token = await issue_token(turn.session, person_id=turn.person.id, now=turn.now, reset=reset)
        if token is None:
            return _say(await _exists(turn))
        url = feed_url(public_url, token)
        opening = "Here's your new calendar feed" if reset else "Here's your calendar feed"
        replaced = " The old link no longer works." if reset else ""
        return Outcome(
            [
                Reply(
                    f"{opening}: subscribe to it in your calendar app (Google Calendar: Other "
                    "calendars, From URL; Outlook: Add calendar, Subscribe from web).\n"
                    f"{url}\n"
                    "It shows your mentoring meetings and the days of your check-ins and "
                    "reviews: titles and times only. Anyone with the link can see those, so "
                    "keep it to yourself. I show it only this once; type calendar reset for a "
                    f"new link.{replaced}"
                )
            ],
            None,
            changed=True,
        )

    async def _exists(turn: Turn) -> str:
        result = await turn.session.exec(
            select(CalendarFeed).where(CalendarFeed.person_id == turn.person.id)
        )
        feed = result.one()
        made = day_label(local_date(feed.created_at, turn.person.timezone or "UTC"))
        return (
            f"You already have a calendar feed (its link was made on {made}). I keep only a "
            "fingerprint of the link, so I can't show it again. Type calendar reset for a new "
            "link; the old one then stops working."
        )

    return [
        Command(
            "calendar",
            "a private link that puts your mentoring meetings in your calendar app",
            _calendar,
            usage="[reset]",
            # The feed holds a pairing's meetings; a circle's are not in it.
            pairs_only=True,
        )
    ]


def _say(text: str) -> Outcome:
    return Outcome([Reply(text)], None, changed=False)
