"""A meeting's iCalendar invite, sent to both people of its pairing.

The contract between booking meetings (finding a time, picking, moving, cancelling) and
putting them in calendars. Booking changes the :class:`storage.Meeting` row (raising its
``sequence`` on every change) and then calls :func:`send_invites`, which builds the
``.ics`` from the row as it now stands and queues it for both people.

Each person gets one message: a sentence in their own timezone that says what is in the
file, with the file attached (Slack uploads it to the DM, Teams offers it on a file-consent
card, the shell writes it under ``MENTORBOT_FILES_DIR``). The dedupe key names the meeting,
its sequence and the person, so calling twice for one change queues once; an older invite
of the same meeting that has not gone out yet is withdrawn, since the new one replaces it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.calendar import day_label
from handlers.core.messages import Attachment, Reply
from handlers.core.outbox import enqueue, withdraw
from handlers.core.program import Program
from handlers.meetings import ics
from storage import Meeting, MeetingStatus, OutboxStatus, Pairing, PairingStatus, Person
from storage.tables import OUTBOX


def invite_key(meeting: Meeting, *, person_id: int, sequence: int | None = None) -> str:
    """The outbox dedupe key of one person's invite for one version of a meeting."""
    version = meeting.sequence if sequence is None else sequence
    return f"invite:{meeting.uid}:{version}:{person_id}"


def invite_filename(meeting: Meeting) -> str:
    """The invite's file name: the meeting and its version, so files never overwrite."""
    kind = "cancelled" if meeting.status == MeetingStatus.CANCELLED else "invite"
    return f"mentoring-{kind}-{meeting.id}-v{meeting.sequence}.ics"


def _times(start: datetime, minutes: int, zone: str) -> str:
    """``Tue 12 Jan, 10:00–10:45`` in ``zone``."""
    local = start.astimezone(ZoneInfo(zone))
    end = local + timedelta(minutes=minutes)
    return f"{day_label(local.date())}, {local:%H:%M}–{end:%H:%M}"


def invite_text(
    meeting: Meeting,
    *,
    other: str,
    zone: str,
    replaces: bool = False,
    now: datetime | None = None,
) -> str:
    """What the message with the invite says, in the reader's timezone.

    Args:
        meeting: The booked or cancelled meeting.
        other: The other person's name.
        zone: The reader's timezone.
        replaces: The reader was sent an earlier invite of it, which this one replaces.
        now: The moment it is sent: a series whose last meeting has started by then
            (the rest cancelled, handlers.meetings.booking.cancel_ahead, or moved to a new
            series) says that the meetings held stay and none is left ahead; one still
            going on is held (handlers.meetings.occurrences.ahead).
    """
    assert meeting.starts_at is not None
    when = _times(meeting.starts_at, meeting.minutes, zone)
    # A series whose end was brought forward to its first meeting (a move split it there)
    # reads as the one meeting it now is.
    series = bool(meeting.every_days and meeting.until and meeting.until > meeting.starts_at)
    if (
        meeting.status == MeetingStatus.BOOKED
        and meeting.every_days
        and meeting.until is not None
        and now is not None
        and meeting.until <= now
    ):
        first = day_label(meeting.starts_at.astimezone(ZoneInfo(zone)).date())
        last = day_label(meeting.until.astimezone(ZoneInfo(zone)).date())
        ends = (
            f"now ends on {last}: the meetings held, from {first} to {last}, stay"
            if series
            else f"now ends with its first meeting ({when} your time), which stays"
        )
        return (
            f"Your series of mentoring meetings with {other} {ends} in your calendar, and none "
            "of it is left ahead. Open the attached invite to update your calendar."
        )
    if meeting.status == MeetingStatus.CANCELLED:
        what = "meetings" if series else "meeting"
        return (
            f"Your mentoring {what} with {other} ({'from ' if series else ''}{when} your time) "
            f"{'are' if series else 'is'} cancelled. Open the attached file to take "
            f"{'them' if series else 'it'} out of your calendar."
        )
    if series:
        assert meeting.until is not None
        assert meeting.every_days is not None
        last = day_label(meeting.until.astimezone(ZoneInfo(zone)).date())
        text = (
            f"Your mentoring meetings with {other}: {when} your time, then every "
            f"{meeting.every_days} days until {last}. Open the attached invite to put the "
            "series in your calendar."
        )
    else:
        text = (
            f"Your mentoring meeting with {other}: {when} your time. Open the attached invite "
            "to put it in your calendar."
        )
    if replaces:
        text += " It replaces the earlier invite."
    return text


async def send_invites(
    session: AsyncSession, *, program: Program, meeting: Meeting, now: datetime
) -> None:
    """Queue the meeting's invite for both people: ``METHOD:REQUEST`` while it is booked
    (the whole series with its moved and cancelled occurrences), ``METHOD:CANCEL`` once it
    is cancelled. A meeting only offered or declined was never in a calendar: nothing goes.

    The invite goes at once, not at the reader's next working hour: one of the two has
    just booked, moved or cancelled it and expects it now. A request of an active pairing
    names the pairing, so it is withdrawn if the pairing ends before it goes out; what
    replaces it then is the invite the ending sends (handlers.cycle.ending.end_pairing
    cancels the meetings ahead: a cancel, or a series cut to the meetings held), which
    names no pairing, since it is what takes the meetings out of both calendars.
    """
    if meeting.starts_at is None or meeting.status not in (
        MeetingStatus.BOOKED,
        MeetingStatus.CANCELLED,
    ):
        return
    pairing = await session.get(Pairing, meeting.pairing_id)
    if pairing is None:
        return
    mentor = await session.get(Person, pairing.mentor_id)
    mentee = await session.get(Person, pairing.mentee_id)
    if mentor is None or mentee is None:
        return
    zone = mentor.timezone or program.default_timezone
    content = ics.invite(
        meeting,
        mentor=ics.Party(mentor.name, mentor.email),
        mentee=ics.Party(mentee.name, mentee.email),
        zone=zone,
        now=now,
    )
    attachment = Attachment(invite_filename(meeting), content, ics.MEDIA_TYPE)
    about = (
        meeting.pairing_id
        if meeting.status == MeetingStatus.BOOKED and pairing.status == PairingStatus.ACTIVE
        else None
    )
    for reader, other in ((mentor, mentee), (mentee, mentor)):
        assert reader.id is not None
        older = [
            invite_key(meeting, person_id=reader.id, sequence=s) for s in range(meeting.sequence)
        ]
        # Only an invite that reached them is replaced; one still waiting is withdrawn.
        replaces = older and await (await session.connection()).scalar(
            sa.select(sa.func.count())
            .select_from(OUTBOX)
            .where(OUTBOX.c.dedupe_key.in_(older), OUTBOX.c.status == OutboxStatus.SENT.value)
        )
        await withdraw(session, reason="invite replaced", now=now, dedupe_keys=older)
        text = invite_text(
            meeting,
            other=other.name,
            zone=reader.timezone or program.default_timezone,
            replaces=bool(replaces),
            now=now,
        )
        await enqueue(
            session,
            person_id=reader.id,
            replies=[Reply(text, attachment=attachment)],
            dedupe_key=invite_key(meeting, person_id=reader.id),
            now=now,
            pairing_id=about,
        )
