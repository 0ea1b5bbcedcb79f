"""Reports for program leads: the catalogue of kinds, running one, and the ``report`` command.

A report is data (:class:`Report`: headline figures, tables, an optional chart), built by
one module per kind (overview.py, cadence.py, at_risk.py ...) from aggregate queries.
Channels render it: an aligned text table in the shell and the CLI (or CSV, JSON), Block
Kit sections and a PNG chart in Slack, an Adaptive Card with the chart in Teams.

Only program leads may run a report. Every run, and every refused attempt, is written to
the audit log. No report holds session note text, summaries or one person's ratings, and
any group smaller than ``program.min_group_size`` is shown as "fewer than N"
(:mod:`handlers.reports.suppression`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.audit import record
from handlers.core.engine import Command, Outcome, Turn
from handlers.core.errors import NotALead
from handlers.core.figures import Kind, Report, as_text
from handlers.core.messages import Reply
from handlers.core.program import Program
from handlers.core.scope import led_program
from handlers.reports import (
    at_risk,
    cadence,
    equity,
    export,
    feedback,
    mentors,
    milestones,
    ops,
    overview,
)


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
    equity,
    export,
    ops,
):
    CATALOGUE.add(_offered.KIND)


async def run_report(
    session: AsyncSession,
    program: Program,
    *,
    actor: str,
    kind: str,
    now: datetime,
    channel: str,
    output: str = "chat",
) -> Report:
    """Build a report for ``actor`` (an email), auditing the run or the refusal.

    Raises:
        NotALead: ``actor`` is not a program lead; the attempt is audited first.
        KeyError: there is no such kind.
    """
    detail = {"kind": kind, "channel": channel, "format": output}
    if not program.is_lead(actor):
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
    found = CATALOGUE.kinds[kind]
    report = await found.build(session, program, now=now)
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
    scoped = led_program(turn, args[1:], verb=f"report {kind}")
    if isinstance(scoped, Reply):
        return Outcome([scoped], None, changed=False)
    report = await run_report(
        turn.session,
        scoped[0],
        actor=turn.person.email,
        kind=kind,
        now=turn.now,
        channel=turn.inbound.channel,
    )
    return Outcome([report_reply(report)], None, changed=False)


def commands() -> list[Command]:
    """The lead's report command (the engine refuses, and audits, anyone else)."""
    return [
        Command(
            "report",
            f"reports for program leads ({', '.join(CATALOGUE.names())})",
            _report,
            usage="KIND",
            lead_only=True,
        )
    ]
