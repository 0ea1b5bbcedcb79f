"""Who may join a program, and in which role: the program file's ``eligibility`` and ``cohort``.

One function, :func:`judge`, answers for one person and one program; when the answer is
no, it says why in one plain sentence the person reads (``join leadership-2027`` → "This
program is for levels 4 and above."). What the rules need from the database (whether the
person has reports, which programs invited them, the leads' names) is read once by
:func:`facts_about`, so ``join`` can judge every program of the file in one turn.

The order of the checks is the order that helps the reader: a rule about who they are
(department, level, ...) first, since an invitation would not change it; then the
invitation; then the enrolment window, which only matters to someone who may join.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.calendar import day_label, local_date
from handlers.core.program import Cohort, LevelRange, Program, Rules
from handlers.plans.chat import zone_of
from storage import Invitation, Person, Role


@dataclass(frozen=True)
class Facts:
    """What the rules need to know about one person beyond their directory row.

    Attributes:
        has_reports: Whether anyone in the directory names them as their manager.
        invited_to: The ids of the programs a lead invited them to.
        lead_names: Directory names of program leads, by email (leads not in it are absent).
    """

    has_reports: bool
    invited_to: frozenset[str] = frozenset()
    lead_names: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """Whether a person may join one program, in which roles, and why not.

    Attributes:
        roles: The roles they may join in now, in the order ``join`` offers them (empty:
            none).
        reason: Why they may not join at all, in one sentence ('' when ``roles`` is not
            empty).
        role_reasons: For each of the program's roles they may not take, why, in one
            sentence.
    """

    roles: tuple[Role, ...]
    reason: str = ""
    role_reasons: dict[Role, str] = field(default_factory=dict)

    @property
    def allowed(self) -> bool:
        """True when they may join in at least one role."""
        return bool(self.roles)


async def facts_about(session: AsyncSession, person: Person, programs: Iterable[Program]) -> Facts:
    """Read what :func:`judge` needs about ``person`` for these programs."""
    reports = await session.scalar(
        sa.select(sa.func.count()).select_from(Person).where(Person.manager_id == person.id)  # type: ignore[arg-type]
    )
    invited = await session.exec(
        select(Invitation.program).where(Invitation.person_id == person.id)
    )
    emails = {email for program in programs for email in program.leads}
    names: dict[str, str] = {}
    if emails:
        found = await session.exec(select(Person).where(Person.email.in_(emails)))  # type: ignore[attr-defined]
        names = {lead.email: lead.name for lead in found.all()}
    return Facts(has_reports=bool(reports), invited_to=frozenset(invited.all()), lead_names=names)


def judge(program: Program, *, person: Person, facts: Facts, now: datetime) -> Verdict:
    """Whether ``person`` may join ``program`` now, in which roles, and if not, why.

    Shared rules (the top of ``eligibility``) and the role's own rules must all hold; an
    invite-only program needs an invitation; a cohort takes people only inside its
    enrolment window (days in the person's timezone); an archived program takes nobody.
    """
    verdict = rules_verdict(program, person=person, facts=facts)
    if not verdict.allowed:
        return verdict
    if program.invite_only and program.id not in facts.invited_to:
        return Verdict((), _invitation_only(program, facts), verdict.role_reasons)
    closed = window_problem(program, today=today_for(program, person, now))
    if closed is not None:
        return Verdict((), closed, verdict.role_reasons)
    return verdict


def rules_verdict(program: Program, *, person: Person, facts: Facts) -> Verdict:
    """The part of :func:`judge` an invitation cannot change: who the program is for.

    A lead's ``invite`` asks this, to tell them about someone the rules keep out anyway.
    """
    if program.archived:
        return Verdict((), f"{program.name} has ended, so nobody can join it any more.")
    shared = _broken(program.eligibility, person, facts)
    if shared is not None:
        return Verdict((), shared)
    role_reasons: dict[Role, str] = {}
    for role in program.roles:
        broken = _broken(_own_rules(program, role), person, facts)
        if broken is not None:
            role_reasons[role] = _as_role(broken, role)
    roles = tuple(r for r in program.roles if r not in role_reasons)
    if not roles:
        return Verdict((), _all_roles(program, role_reasons), role_reasons)
    return Verdict(roles, "", role_reasons)


def window_problem(program: Program, *, today: date) -> str | None:
    """Why a cohort takes nobody today (not yet open, or closed), or None."""
    cohort = program.cohort
    if cohort is None:
        return None
    if cohort.enrol_from is not None and today < cohort.enrol_from:
        return f"Enrolment for {program.name} opens on {day_label(cohort.enrol_from)}."
    if today > cohort.enrol_until:
        return (
            f"Enrolment for {program.name} closed on {day_label(cohort.enrol_until)}; the "
            "next cohort will be announced by the program leads."
        )
    return None


def cohort_dates(cohort: Cohort) -> str:
    """A cohort's dates as ``join`` lists them: ``enrol by Fri 29 Jan, starts Mon 1 Feb``."""
    return f"enrol by {day_label(cohort.enrol_until)}, starts {day_label(cohort.starts)}"


def today_for(program: Program, person: Person, now: datetime) -> date:
    """The day it is for ``person`` (their timezone, else the program's)."""
    return local_date(now, _zone(program, person))


# --- the rules, one at a time ---------------------------------------------------------------


def _zone(program: Program, person: Person) -> str:
    return zone_of(person, program.default_timezone)


def _own_rules(program: Program, role: Role) -> Rules | None:
    """The rules of ``role`` alone (the shared ones are checked first, once)."""
    rule_sets = program.eligibility.for_role(role)
    return rule_sets[1] if len(rule_sets) > 1 else None


def _broken(rules: Rules | None, person: Person, facts: Facts) -> str | None:
    """The first rule ``person`` does not meet, as a sentence, or None when all hold.

    The sentence reads "This program is for ...", so a role can be added to it.
    """
    if rules is None:
        return None
    if rules.department and not _equal_to_any(person.department, rules.department):
        return f"This program is for {_departments(rules.department)}."
    if rules.level is not None and (rules.level.min is not None or rules.level.max is not None):
        levels = _levels(rules.level)
        if person.level is None:
            return (
                f"This program is for {levels}, and the directory has no level for you; ask "
                "HR or the program lead to add it."
            )
        if not _within(person.level, rules.level):
            return f"This program is for {levels}."
    if rules.location and not _equal_to_any(person.location, rules.location):
        return f"This program is for people in {_either(rules.location)}."
    if rules.title and not _contains_any(person.title, rules.title):
        quoted = _either([f'"{t}"' for t in rules.title])
        return f"This program is for people whose title includes {quoted}."
    if rules.manager is True and not facts.has_reports:
        return "This program is for people with direct reports."
    if rules.manager is False and facts.has_reports:
        return "This program is for people without direct reports."
    for name, values in rules.attributes.items():
        if not _equal_to_any(_attribute(person, name), values):
            return f"This program is for people whose {name} in the directory is {_either(values)}."
    return None


def _attribute(person: Person, name: str) -> str | None:
    """An imported column's value (column names compare case-insensitively)."""
    attributes = person.attributes or {}
    if name in attributes:
        value = attributes[name]
    else:
        value = next((v for k, v in attributes.items() if k.casefold() == name.casefold()), None)
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _fold(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def _equal_to_any(value: str | None, allowed: Sequence[str]) -> bool:
    return value is not None and _fold(value) in {_fold(a) for a in allowed}


def _contains_any(value: str | None, parts: Sequence[str]) -> bool:
    return value is not None and any(_fold(p) in _fold(value) for p in parts)


def _within(level: int, bounds: LevelRange) -> bool:
    return (bounds.min is None or level >= bounds.min) and (
        bounds.max is None or level <= bounds.max
    )


def _levels(bounds: LevelRange) -> str:
    if bounds.min is not None and bounds.max is not None:
        if bounds.min == bounds.max:
            return f"level {bounds.min}"
        return f"levels {bounds.min} to {bounds.max}"
    if bounds.min is not None:
        return f"levels {bounds.min} and above"
    return f"levels {bounds.max} and below"


def _either(values: Sequence[str]) -> str:
    """``A``, ``A or B``, ``A, B or C``."""
    values = list(values)
    if len(values) <= 1:
        return "".join(values)
    return f"{', '.join(values[:-1])} or {values[-1]}"


def _departments(names: Sequence[str]) -> str:
    return f"the {_either(names)} department{'s' if len(names) > 1 else ''}"


def _as_role(sentence: str, role: Role) -> str:
    """A rule's sentence for one role: "This program is for levels 5 and above as a mentor."

    The level sentence has a second clause; the role goes before it.
    """
    head, comma, tail = sentence.partition(", and the directory")
    head = head.rstrip(".")
    return f"{head} as a {role.value}{comma}{tail}" if comma else f"{head} as a {role.value}."


def _all_roles(program: Program, reasons: dict[Role, str]) -> str:
    """One sentence for a person no role of the program takes.

    One role: its own sentence. Several: "This program is for levels 2 to 4 as a mentee
    and levels 5 and above as a mentor." when each reads "This program is for ...";
    the first one otherwise (a missing level says what to do about it).
    """
    sentences = [reasons[r] for r in program.roles]
    start = "This program is for "
    if len(sentences) == 1 or any(
        not s.startswith(start) or ", and the directory" in s for s in sentences
    ):
        return sentences[0]
    clauses = [s.removeprefix(start).rstrip(".") for s in sentences]
    return start + " and ".join(clauses) + "."


def _invitation_only(program: Program, facts: Facts) -> str:
    """The invite-only sentence, naming a lead the person can ask (the program's own first)."""
    own = [e for e in program.leads if e not in program.global_leads]
    for email in [*own, *program.global_leads]:
        name = facts.lead_names.get(email)
        if name:
            return (
                f"This program is by invitation; ask {name} (a program lead) if you'd like "
                "to take part."
            )
    return "This program is by invitation; ask the program lead if you'd like to take part."
