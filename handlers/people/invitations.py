"""Invitations: a program lead opens an invite-only program to named people.

``invite PROGRAM EMAIL...`` (chat, program leads) and ``mentorbot invite PROGRAM EMAIL...
--as LEAD`` (command line) both end in :func:`invite_people`. For each email it says what
happened: invited (an :class:`storage.Invitation` row, and a message with a Join button
queued for the invitee), already invited or already enrolled (nothing changes), not in the
directory, or kept out by the program's other rules (an invitation opens the door, it does
not change who the program is for). Inviting again changes nothing: the invitation is
unique per program and person, and its message is queued once by its dedupe key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.audit import record
from handlers.core.engine import Command, Outcome, Turn
from handlers.core.messages import Option, Reply
from handlers.core.outbox import enqueue
from handlers.core.program import OPTION_LABEL_LIMIT, Program
from handlers.people.directory import is_email
from handlers.people.eligibility import cohort_dates, facts_about, rules_verdict
from storage import EnrollmentStatus, Person
from storage.queries import enrollments_of, insert_for, person_by_email
from storage.tables import INVITATION

#: The most emails one ``invite`` takes (a longer list is better imported and sent in parts).
MOST_EMAILS = 200
USAGE = "Type invite, the program's id and one or more email addresses, e.g. invite {example}."


@dataclass
class InviteResult:
    """What one ``invite`` did, person by person.

    Attributes:
        invited: Newly invited (a message to each is queued).
        already_invited: Invited before; nothing changed.
        already_enrolled: In the program already; nothing changed.
        not_eligible: Kept out by the program's other rules, with the sentence why.
        unknown: Email addresses nobody in the directory has.
        not_emails: Words that are not email addresses.
    """

    program: Program
    invited: list[Person] = field(default_factory=list)
    already_invited: list[Person] = field(default_factory=list)
    already_enrolled: list[Person] = field(default_factory=list)
    not_eligible: list[tuple[Person, str]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    not_emails: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when every email was dealt with (nobody left out for a problem)."""
        return not (self.not_eligible or self.unknown or self.not_emails)

    def summary(self) -> str:
        """One line: ``Invited 3 to NAME: ...; 1 already enrolled: ...; 1 not in the ...``."""
        parts = []
        if self.invited:
            parts.append(
                f"Invited {len(self.invited)} to {self.program.name}: {_names(self.invited)}"
            )
        else:
            parts.append(f"Nobody new invited to {self.program.name}")
        if self.already_invited:
            parts.append(
                f"{len(self.already_invited)} already invited: {_names(self.already_invited)}"
            )
        if self.already_enrolled:
            parts.append(
                f"{len(self.already_enrolled)} already enrolled: {_names(self.already_enrolled)}"
            )
        if self.not_eligible:
            kept = ", ".join(f"{p.name} ({why.rstrip('.')})" for p, why in self.not_eligible)
            parts.append(
                f"{len(self.not_eligible)} not invited, the program's rules keep them out: {kept}"
            )
        if self.unknown:
            parts.append(
                f"{len(self.unknown)} not in the directory: {', '.join(self.unknown)} "
                "(people import adds them)"
            )
        if self.not_emails:
            words = ", ".join(repr(w) for w in self.not_emails)
            parts.append(f"{len(self.not_emails)} not an email address: {words}")
        return "; ".join(parts) + "."


def _names(people: Sequence[Person]) -> str:
    return ", ".join(f"{p.name} <{p.email}>" for p in people)


async def invite_people(
    session: AsyncSession,
    program: Program,
    *,
    lead: Person,
    emails: Sequence[str],
    now: datetime,
) -> InviteResult:
    """Invite each email's person to ``program``; see the module's docstring.

    Args:
        session: The open transaction: invitations, messages and the audit entry commit
            together.
        program: A program ``lead`` leads (the caller checked).
        lead: Who invites; named in the invitation.
        emails: What the lead typed, one address each (repeats count once).
        now: The moment.
    """
    result = InviteResult(program)
    conn = await session.connection()
    for typed in dict.fromkeys(e.strip().strip(",;").lower() for e in emails if e.strip(",; ")):
        if not is_email(typed):
            result.not_emails.append(typed[:60])
            continue
        person = await person_by_email(session, typed)
        if person is None or person.id is None:
            result.unknown.append(typed)
            continue
        enrolled = [
            e
            for e in await enrollments_of(session, person.id, program=program.id)
            if e.status != EnrollmentStatus.LEFT
        ]
        if enrolled:
            result.already_enrolled.append(person)
            continue
        verdict = rules_verdict(
            program, person=person, facts=await facts_about(session, person, [program])
        )
        if not verdict.allowed:
            result.not_eligible.append((person, verdict.reason))
            continue
        inserted = await conn.execute(
            insert_for(conn)(INVITATION)
            .values(program=program.id, person_id=person.id, invited_by=lead.id, invited_at=now)
            .on_conflict_do_nothing(index_elements=["program", "person_id"])
        )
        if not inserted.rowcount:
            result.already_invited.append(person)
            continue
        result.invited.append(person)
        await enqueue(
            session,
            person_id=person.id,
            replies=[invitation_message(program, lead=lead)],
            dedupe_key=f"invite:{program.id}:{person.id}",
            now=now,
            program=program,
        )
    if result.invited:
        await record(
            session,
            actor=lead.email,
            action="invite",
            target=program.id,
            now=now,
            detail={"invited": [p.email for p in result.invited]},
        )
    return result


def invitation_message(program: Program, *, lead: Person) -> Reply:
    """What an invitee reads: who invited them, to what, and a button to join."""
    about = f" {program.description.strip()}" if program.description.strip() else ""
    if about and not about.endswith((".", "!", "?")):
        about += "."
    when = ""
    if program.cohort is not None:
        dates = cohort_dates(program.cohort)
        when = f" The cohort's dates: {dates}."
    return Reply(
        f"{lead.name} invited you to {program.name}.{about}{when} Type join {program.id} "
        "to take part, or ignore this message if it's not for you.",
        actions=(Option(f"join {program.id}", f"Join {program.name}"[:OPTION_LABEL_LIMIT]),),
    )


async def _invite(turn: Turn, args: list[str]) -> Outcome:
    """The chat command ``invite [PROGRAM] EMAIL...`` of a program lead.

    The program is named first, or understood when the lead leads only one. A lead of
    other programs is refused and the attempt audited, as the engine does for non-leads.
    """
    led = turn.programs.led_by(turn.person.email)
    usage = USAGE.format(example=f"{(led[0] if led else turn.programs.first).id} ana@example.com")
    if not args:
        return _said(usage)
    named = turn.programs.get(args[0].lower())
    if named is not None:
        if not named.is_lead(turn.person.email):
            await record(
                turn.session,
                actor=turn.person.email,
                action="invite",
                target=named.id,
                allowed=False,
                now=turn.now,
                detail={"channel": turn.inbound.channel},
            )
            return _said(f"You don't lead {named.name}, so you can't invite people to it.")
        program, emails = named, args[1:]
    elif not is_email(args[0]):
        ids = ", ".join(p.id for p in led)
        return _said(f"There's no program {args[0][:60]!r}; the programs you lead: {ids}.")
    elif len(led) == 1:
        program, emails = led[0], args
    else:
        ids = ", ".join(f"{p.id} ({p.name})" for p in led)
        return _said(f"Which program? Type invite, the program's id and the emails: {ids}.")
    if not emails:
        return _said(usage)
    if len(emails) > MOST_EMAILS:
        return _said(f"That's {len(emails)} addresses; invite at most {MOST_EMAILS} at once.")
    result = await invite_people(
        turn.session, program, lead=turn.person, emails=emails, now=turn.now
    )
    if not result.invited and not result.already_invited and not result.already_enrolled:
        return _said(f"{result.summary()} {usage}")
    return Outcome([Reply(result.summary())], None, changed=bool(result.invited))


def _said(text: str) -> Outcome:
    """A reply that changes nothing."""
    return Outcome([Reply(text)], None, changed=False)


def commands() -> list[Command]:
    """The ``invite`` command of program leads."""
    return [
        Command(
            "invite",
            "invite people to a program (they get a message with a Join button)",
            _invite,
            usage="[PROGRAM] EMAIL...",
            lead_only=True,
        )
    ]
