"""Reports for program leads: the catalogue of kinds, running one, and the ``report`` command.

A report is data (:class:`Report`: headline figures, tables, an optional chart), built by
one module per kind (overview.py, cadence.py, at_risk.py ...) from aggregate queries.
Channels render it: an aligned text table in the shell and the CLI (or CSV, JSON), Block
Kit sections and a PNG chart in Slack, an Adaptive Card with the chart in Teams.

Only program leads may run a report, and only on a program they lead (a global lead leads
every one, archived ones included). ``report programs`` covers every program the lead
leads. Every run, and every refused attempt, is written to the audit log. No report holds
session note text, summaries or one person's ratings, and any group smaller than
``program.min_group_size`` is shown as "fewer than N" (:mod:`handlers.reports.suppression`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.archived import recall_archived_circles
from handlers.core.audit import record
from handlers.core.engine import Command, Outcome, Turn
from handlers.core.errors import NotALead
from handlers.core.figures import DatedKind, Kind, Report, as_text
from handlers.core.messages import Reply
from handlers.core.program import Program
from handlers.core.programs import Programs
from handlers.core.scope import led_program
from handlers.reports import (
    at_risk,
    cadence,
    circles,
    equity,
    export,
    feedback,
    mentors,
    milestones,
    ops,
    overview,
    programs,
)
from handlers.reports.programs import AcrossKind
from handlers.reports.queries import stored_program_ids
from handlers.reports.standing import archived_programs


@dataclass
class Catalogue:
    """The report kinds on offer, in the order ``report`` lists them."""

    kinds: dict[str, Kind] = field(default_factory=dict)

    def add(self, kind: Kind) -> None:
        """Offer one more kind."""
        self.kinds[kind.name] = kind

    def names(self) -> list[str]:
        """Every kind's name."""
        return list(self.kinds)


CATALOGUE = Catalogue()
for _offered in (
    overview,
    cadence,
    at_risk,
    milestones,
    mentors,
    feedback,
    circles,
    equity,
    export,
    ops,
    programs,
):
    CATALOGUE.add(_offered.KIND)


async def reportable(session: AsyncSession, programs: Programs, actor: str) -> list[Program]:
    """The programs ``actor`` may run reports on: every one (archived ones with rows
    included) for a global lead, the ones they lead for a program lead, else none."""
    if programs.is_global_lead(actor):
        return [*programs, *await archived_programs(session, programs)]
    return programs.led_by(actor)


async def stored_program(
    session: AsyncSession, programs: Programs, program_id: str
) -> Program | None:
    """The program with this id: in the file, or archived (on stored rows only); else None."""
    found = programs.get(program_id)
    if found is not None:
        return found
    if program_id in await stored_program_ids(await session.connection()):
        await recall_archived_circles(session, programs)
        return programs.of(program_id)
    return None


async def run_report(
    session: AsyncSession,
    scope: Program | Programs,
    *,
    actor: str,
    kind: str,
    now: datetime,
    channel: str,
    output: str = "chat",
    reader_zone: str | None = None,
) -> Report:
    """Build a report for ``actor`` (an email), auditing the run or the refusal.

    Args:
        session: The transaction the report reads in and the audit entry is written to.
        scope: The program to report on (which ``actor`` must lead), or every program: a
            kind across programs (``report programs``) then covers those ``actor`` may
            see (:func:`reportable`).
        actor: Who asks.
        kind: The report's name in :data:`CATALOGUE`.
        now: The instant the report is worked out at.
        channel: Where it was asked for (audited).
        output: The format asked for (audited).
        reader_zone: The time zone of the lead who reads it, for the moments a report
            shows; None: the program's, named.

    Raises:
        NotALead: ``actor`` leads no program in scope; the attempt is audited first.
        KeyError: there is no such kind.
        ValueError: every program was given for a kind about one program.
    """
    found = CATALOGUE.kinds[kind]
    detail: dict[str, object] = {"kind": kind, "channel": channel, "format": output}
    if isinstance(scope, Programs):
        if not isinstance(found, AcrossKind):
            raise ValueError(f"report {kind} is about one program: name it")
        covered = await reportable(session, scope, actor)
        detail["programs"] = [program.id for program in covered]
        allowed = bool(covered)
    else:
        detail["program"] = scope.id
        allowed = scope.is_lead(actor)
    if not allowed:
        await record(
            session,
            actor=actor,
            action="report",
            target=kind,
            allowed=False,
            now=now,
            detail=detail,
        )
        raise NotALead(actor)
    if isinstance(scope, Programs):
        assert isinstance(found, AcrossKind)
        report = await found.across(session, covered, now=now)
    else:
        report = (
            await found.for_reader(session, scope, now=now, reader_zone=reader_zone)
            if isinstance(found, DatedKind)
            else await found.build(session, scope, now=now)
        )
        if scope.archived:
            report = replace(report, title=f"{report.title}: {scope.name} (archived)")
    await record(session, actor=actor, action="report", target=kind, now=now, detail=detail)
    return report


def report_reply(report: Report) -> Reply:
    """A report as a reply: plain text for every channel, the data for rich renderers."""
    return Reply(as_text(report, heading=False), title=report.title, report=report)


async def _report(turn: Turn, args: list[str]) -> Outcome:
    kind = args[0].lower() if args else ""
    known = ", ".join(CATALOGUE.names())
    if kind not in CATALOGUE.kinds:
        said = f"There's no report {kind!r}. " if kind else ""
        text = f"{said}Type report and a kind; available: {known}."
        return Outcome([Reply(text)], None, changed=False)
    scope = await _scope(turn, kind, args[1:])
    if isinstance(scope, Reply):
        return Outcome([scope], None, changed=False)
    try:
        report = await run_report(
            turn.session,
            scope,
            actor=turn.person.email,
            kind=kind,
            now=turn.now,
            channel=turn.inbound.channel,
            reader_zone=turn.person.timezone or turn.programs.default_timezone,
        )
    except NotALead:
        # Audited by run_report; the refusal commits with the turn.
        assert isinstance(scope, Program)
        text = f"You don't lead {scope.name}, so you can't see its report {kind}."
        return Outcome([Reply(text)], None, changed=False)
    return Outcome([report_reply(report)], None, changed=False)


async def _scope(turn: Turn, kind: str, words: list[str]) -> Program | Programs | Reply:
    """What ``report KIND [PROGRAM]`` is about.

    A program named (one in the file, or an archived one with rows) is reported on
    whoever asks: :func:`run_report` refuses, and audits, one they do not lead. Otherwise
    a kind across programs covers every program; another kind the only one they lead
    (:func:`handlers.core.scope.led_program` asks which when they lead several).
    """
    named = await stored_program(turn.session, turn.programs, words[0].lower()) if words else None
    if named is not None:
        return named
    if isinstance(CATALOGUE.kinds[kind], AcrossKind):
        return turn.programs
    scoped = led_program(turn, words, verb=f"report {kind}")
    return scoped if isinstance(scoped, Reply) else scoped[0]


def commands() -> list[Command]:
    """The lead's report command (the engine refuses, and audits, anyone else)."""
    return [
        Command(
            "report",
            f"reports for program leads ({', '.join(CATALOGUE.names())})",
            _report,
            usage="KIND [PROGRAM]",
            lead_only=True,
        )
    ]
