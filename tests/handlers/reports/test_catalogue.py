"""The catalogue of report kinds, and what every kind does alike: an empty program, CSV and
JSON that parse back, a lead running it in chat, and no private text in any rendering."""

from __future__ import annotations

import csv
import io
import json

import pytest

from handlers import build_engine
from handlers.core.figures import as_csv, as_json, as_text
from handlers.core.program import Program
from handlers.core.programs import Programs
from handlers.reports.at_risk import KIND as AT_RISK
from handlers.reports.cadence import KIND as CADENCE
from handlers.reports.catalogue import CATALOGUE
from handlers.reports.equity import KIND as EQUITY
from handlers.reports.equity import equity_report
from handlers.reports.export import KIND as EXPORT
from handlers.reports.export import export_report
from handlers.reports.feedback import KIND as FEEDBACK
from handlers.reports.feedback import feedback_report
from handlers.reports.mentors import KIND as MENTORS
from handlers.reports.milestones import KIND as MILESTONES
from handlers.reports.overview import KIND as OVERVIEW
from storage import Database
from tests.handlers.reports import people_world
from tests.handlers.reports.pairs_world import NOW, SECRET, build
from tests.helpers import Chat, FakeClock, make_person

#: The reports about pairs, in the order the catalogue lists them.
PAIR_KINDS = [OVERVIEW, CADENCE, AT_RISK, MILESTONES, MENTORS]
#: The reports about people, in the order the catalogue lists them.
PEOPLE_KINDS = [FEEDBACK, EQUITY, EXPORT]


@pytest.mark.parametrize("kind", [kind.name for kind in PAIR_KINDS])
async def test_a_report_on_an_empty_program_shows_nothing_to_count(
    database: Database, program: Program, kind: str
) -> None:
    async with database.session() as session:
        report = await CATALOGUE.kinds[kind].build(session, program, now=NOW)
    assert report.kind == kind
    assert report.tables
    json.loads(as_json(report))
    lines = as_csv(report).splitlines()
    # The headline figures lead the CSV; the first table follows after a blank row.
    assert lines[0] == "figure,value"
    assert lines[len(report.figures) + 2] == ",".join(report.tables[0].columns)


def test_every_kind_is_in_the_catalogue() -> None:
    names = [kind.name for kind in PAIR_KINDS]
    assert names == ["overview", "cadence", "at-risk", "milestones", "mentors"]
    assert all(CATALOGUE.kinds[name] is kind for name, kind in zip(names, PAIR_KINDS, strict=True))
    assert CATALOGUE.names()[: len(names)] == names


@pytest.mark.parametrize("kind", [kind.name for kind in PAIR_KINDS])
async def test_csv_and_json_parse_back_and_hold_no_private_text(
    database: Database, pairs_of_two: Program, kind: str
) -> None:
    found = CATALOGUE.kinds[kind]
    report = await build(database, found.build, pairs_of_two)
    assert report.kind == kind
    parsed = list(csv.reader(io.StringIO(as_csv(report))))
    first = report.tables[0]
    count = len(report.figures)
    assert parsed[: count + 2] == [["figure", "value"], *map(list, report.figures), []]
    assert parsed[count + 2] == list(first.columns)
    assert parsed[count + 3 :] == [["" if c is None else str(c) for c in row] for row in first.rows]
    data = json.loads(as_json(report))
    assert data["kind"] == kind
    assert data["figures"] == dict(report.figures)
    assert [t["title"] for t in data["tables"]] == [t.title for t in report.tables]
    assert data["tables"][0]["rows"] == [
        dict(zip(first.columns, row, strict=True)) for row in first.rows
    ]
    # Notes, summaries, objectives and survey comments never reach a report.
    for rendered in (as_text(report), as_csv(report), as_json(report)):
        assert SECRET not in rendered


def test_the_three_kinds_are_offered_to_leads() -> None:
    assert [k.name for k in PEOPLE_KINDS] == ["feedback", "equity", "export"]
    for kind in PEOPLE_KINDS:
        assert CATALOGUE.kinds[kind.name] is kind


async def test_a_lead_runs_each_report_in_chat(database: Database, program: Program) -> None:
    await people_world.seed(database)
    lead = await make_person(database, "priya.shah@example.com", name="Priya Shah")
    engine = build_engine(
        programs=Programs.one(program), database=database, clock=FakeClock(people_world.NOW)
    )
    chat = Chat(engine, lead)
    await chat.expect("report feedback", "Average rating per question", "usefulness")
    await chat.expect("report equity", "Mentees by group", "other (groups under 5)")
    await chat.expect("report export", "Figures per pairing", "pairing_id")


async def test_no_rendering_of_any_report_holds_notes_comments_or_names(
    database: Database, program: Program
) -> None:
    await people_world.seed(database, number_question=True)
    extended = people_world.with_number_question(program)
    for builder in (feedback_report, equity_report, export_report):
        report = await people_world.build_report(database, extended, builder)
        renderings = {
            "text": as_text(report),
            "csv": as_csv(report),
            "json": as_json(report),
            "chart": json.dumps(report.chart.__dict__ if report.chart else None),
        }
        for how, rendering in renderings.items():
            for secret in people_world.SECRETS:
                assert secret not in rendering, f"{secret!r} in the {how} of {report.kind}"
