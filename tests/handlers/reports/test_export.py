"""``report export``: one k-anonymous row per pairing (on the program in
tests/handlers/reports/people_world.py and tests/handlers/export_world.py)."""

from __future__ import annotations

import csv
import io

from handlers import build_engine
from handlers.core.figures import as_csv, as_json, as_text
from handlers.core.program import Program
from handlers.core.programs import Programs
from handlers.reports.export import EXPORT_COLUMNS, export_report
from storage import Database
from tests.handlers import export_world
from tests.handlers.export_world import seed_small_program
from tests.handlers.reports.people_world import (
    PROGRAM,
    build_report,
    seed,
)
from tests.helpers import Chat, FakeClock, make_person


async def test_export_csv_has_one_row_per_pairing_that_became_active(
    database: Database, program: Program
) -> None:
    world = await seed(database)
    report = await build_report(database, program, export_report)
    parsed = list(csv.reader(io.StringIO(as_csv(report))))
    # The headings a lead's spreadsheet shows, spelled out, not read back from the code.
    assert tuple(parsed[0]) == (
        "pairing_id",
        "program",
        "mentee_department",
        "mentee_level",
        "mentor_department",
        "mentor_level",
        "status",
        "activated_at",
        "days_active",
        "sessions_logged",
        "minutes",
        "last_session",
        "missed_checkins",
        "at_risk",
        "milestones_done",
        "milestones_total",
        "pulse_responses",
    )
    # Every record is as wide as the table; the note follows the rows after an empty one.
    assert {len(row) for row in parsed} == {17}
    *table, empty, note = parsed
    assert empty == [""] * 17
    assert note[0].startswith("Note: So that no one can be picked out, every combination of")
    body = {row[0]: row for row in table[1:]}
    # Mentee 1's two pairings and the 9 other matched mentees'; no proposal, no decline,
    # nothing from the other program. Mentee 16 (Engineering, no level given) is the only
    # one of their combination, so their pairing is left out; Sales (4) and Legal (1) read
    # "other" together, and levels read in bands of 6 (k-anonymity, k = 5).
    assert len(body) == 11
    assert str(world.pairings[16]) not in body
    assert body[str(world.first)] == [
        str(world.first), PROGRAM, "Engineering", "0–6", "Operations", "7", "ended",
        "2026-08-11T00:00:00+00:00", "40", "2", "90", "2026-09-20", "1",
        # Ended pairings are no longer at risk.
        "no", "2", "3", "2",
    ]  # fmt: skip
    assert body[str(world.second)] == [
        str(world.second), PROGRAM, "Engineering", "0–6", "Operations", "7", "active",
        "2026-09-30T00:00:00+00:00", "62", "0", "0", "", "0", "no", "0", "0", "20",
    ]  # fmt: skip
    # Second cycle: its own plan only (1 of 2 done), not the first cycle's.
    assert body[str(world.at_risk)] == [
        str(world.at_risk), PROGRAM, "Engineering", "0–6", "Operations", "7", "active",
        "2026-08-11T00:00:00+00:00", "112", "1", "45", "2026-11-03", "2", "yes", "1", "2", "0",
    ]  # fmt: skip
    legal = body[str(world.pairings[12])]
    assert legal[2:4] == ["other", "0–6"]
    assert legal[7:9] == ["2026-09-20T00:00:00+00:00", "72"]
    assert dict(report.figures) == {
        "Pairings": "11",
        "Active": "10",
        "Ended": "1",
        "Left out so that no one stands out": "fewer than 5",
    }


async def test_a_lone_department_and_level_does_not_pick_out_an_at_risk_pair(
    database: Database, program: Program
) -> None:
    """The only Legal mentee's pairing is at risk: the export must not say whose it is."""
    small = await seed_small_program(database)
    lead = await make_person(database, export_world.LEAD, name="Priya Shah")
    engine = build_engine(
        programs=Programs.one(program), database=database, clock=FakeClock(export_world.NOW)
    )
    chat = Chat(engine, lead)

    text = await chat.expect("report export", export_world.NOTE)

    assert "Legal" not in text
    [reply] = chat.last
    assert reply.report is not None
    [table] = reply.report.tables
    assert [row[2:6] for row in table.rows] == export_world.SHOWN
    assert [row[0] for row in table.rows] == small.pairings[:10]
    assert all(row[13] == "no" for row in table.rows)
    assert dict(reply.report.figures)["Left out so that no one stands out"] == "fewer than 5"
    for rendering in (as_text(reply.report), as_csv(reply.report), as_json(reply.report)):
        assert "Legal" not in rendering and "yes" not in rendering
    records = list(csv.reader(io.StringIO(as_csv(reply.report))))
    assert records[0] == list(EXPORT_COLUMNS)
    assert records[-1][0] == f"Note: {export_world.NOTE}"
    assert {len(record) for record in records} == {len(EXPORT_COLUMNS)}
