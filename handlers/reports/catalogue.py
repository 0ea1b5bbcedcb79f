"""Reports for program leads: the figures, platform-neutral.

A report is data (:class:`Report`: headline figures, tables, an optional chart), built by
one function per kind from aggregate queries. Channels render it: an aligned text table in
the shell and the CLI (or CSV, JSON), Block Kit sections and a PNG chart in Slack, an
Adaptive Card with the chart in Teams.

Only program leads may run a report. Every run, and every refused attempt, is written to
the audit log. No report holds session note text, summaries or one person's ratings, and
any group smaller than ``program.min_group_size`` is shown as "fewer than N".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.audit import record
from handlers.core.engine import Command, Outcome, Turn
from handlers.core.figures import Kind, Report, Table, as_text
from handlers.core.messages import Reply
from handlers.core.outbox import backlog, count_by_status, failed_messages, unreachable_people
from handlers.core.program import Program
from handlers.reports.pairs import KINDS as PAIR_KINDS
from handlers.reports.people import KINDS as PEOPLE_KINDS


async def ops_report(session: AsyncSession, program: Program, now: datetime) -> Report:
    """Outbox backlog, messages given up on (with why), and people the bot cannot reach.

    Withdrawn messages (about a pairing that ended before they went out) are counted too.
    """
    counts = await count_by_status(session)
    failed = await failed_messages(session)
    unreachable = await unreachable_people(session)
    figures = (
        ("Waiting to go out", str(backlog(counts))),
        ("Sent", str(counts["sent"])),
        ("Failed", str(counts["failed"])),
        ("Undeliverable", str(counts["undeliverable"])),
        # Taken back before they went out: what they said stopped being true.
        ("Withdrawn", str(counts["withdrawn"])),
    )
    tables = []
    if failed:
        tables.append(
            Table(
                "Messages given up on (newest first)",
                ("person", "email", "queued (UTC)", "why"),
                tuple(
                    (name, email, f"{queued:%-d %b %H:%M}", reason)
                    for name, email, reason, _, queued in failed
                ),
            )
        )
    if unreachable:
        tables.append(
            Table(
                "People I cannot reach (invite them, or check their account)",
                ("person", "email", "messages", "why"),
                tuple((name, email, count, reason) for name, email, reason, count in unreachable),
            )
        )
    notes = () if tables else ("Every message so far was delivered or is on its way.",)
    return Report("ops", "Operations: message delivery", figures, tuple(tables), None, notes)


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
for _kind in (
    *PAIR_KINDS,
    *PEOPLE_KINDS,
    Kind("ops", "outbox backlog, failed and undeliverable messages", ops_report),
):
    CATALOGUE.add(_kind)


class NotALead(Exception):
    """The person asking is not a program lead (the attempt was audited)."""


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
    report = await found.build(session, program, now)
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
    report = await run_report(
        turn.session,
        turn.program,
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
