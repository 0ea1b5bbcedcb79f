"""Two programs with the same people and pairs: the pair reports' world (pairs_world.py)
in leadership-2027, and a copy of it, every name marked, in another program.

A report on one program must read the same with the copy there or not, and the copy's
report must show the same figures as the original's.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from handlers.core.errors import NotALead
from handlers.core.figures import Report
from handlers.core.messages import Reply
from handlers.core.outbox import outbox_row
from handlers.core.program import Program
from handlers.core.programs import Programs
from handlers.reports.catalogue import run_report
from storage import Database, Feedback
from storage.tables import OUTBOX
from tests.handlers.reports.pairs_world import MENTEES, MENTORS, NOW, PROGRAM_ID, at, seed

LEADERSHIP, REVERSE, OLD = PROGRAM_ID, "reverse-2027", "old-program"
#: The global lead of tests/fixtures/programs.yaml, and the lead of leadership-2027 (and
#: sales-pilot) only.
GLOBAL, PRIYA = "hr.lead@example.com", "priya.shah@example.com"
#: The copy in reverse-2027: ids 100 higher, every name and email marked.
COPY = {"program_id": REVERSE, "offset": 100, "mark": "Bee "}
#: A copy in a program the file no longer has (archived).
ARCHIVED = {"program_id": OLD, "offset": 200, "mark": "Old "}
NAMES = [name for _, name, *_ in MENTORS + MENTEES]


def of_two(programs: Programs) -> Programs:
    """The test file's programs with groups of two shown as numbers."""
    return Programs(
        [program.model_copy(update={"min_group_size": 2}) for program in programs],
        leads=programs.leads,
    )


async def fail_messages(database: Database, *, offset: int = 0) -> None:
    """A failed message about Lee–Ana's pairing, and one undeliverable to Quinn (no pairing)."""
    rows: list[dict[str, Any]] = []
    for person, pairing, status in ((11, 1, "failed"), (16, None, "undeliverable")):
        row = outbox_row(
            person_id=person + offset,
            replies=[Reply("Time for a check-in")],
            dedupe_key=f"test:{person + offset}",
            now=at("2027-03-01", 9),
            pairing_id=None if pairing is None else pairing + offset,
        )
        rows.append({**row, "status": status, "attempts": 3, "last_error": "slack: 503"})
    async with database.session() as session:
        await (await session.connection()).execute(sa.insert(OUTBOX), rows)


async def seed_two(database: Database, *, copy: dict[str, Any] | None = None) -> None:
    """The world in leadership-2027 with its failed messages; and a copy, if asked."""
    if copy is None:
        await seed(database)
        await fail_messages(database)
    else:
        await seed(database, **copy)
        await fail_messages(database, offset=copy["offset"])


async def calibrate(database: Database, answers: list[tuple[int, int, int]]) -> None:
    """Answered calibration surveys of leadership-2027: (pairing, respondent, fit) each."""
    async with database.session() as session:
        session.add_all(
            Feedback(
                key=f"calibration:{pairing}:{n}",
                pairing_id=pairing,
                program=LEADERSHIP,
                survey="calibration",
                respondent_id=respondent,
                role="mentee",
                status="answered",
                answers={"fit": fit, "comment": "SECRET calibration comment"},
                asked_at=at("2027-01-05"),
                answered_at=at("2027-01-06"),
            )
            for n, (pairing, respondent, fit) in enumerate(answers)
        )


async def report_of(
    database: Database, scope: Program | Programs, *, actor: str, kind: str
) -> Report:
    """The report as ``actor`` asks for it; NotALead once the refusal is committed."""
    async with database.session() as session:
        try:
            return await run_report(session, scope, actor=actor, kind=kind, now=NOW, channel="test")
        except NotALead as refused:
            error = refused  # the audited attempt commits as the session closes
    raise error
