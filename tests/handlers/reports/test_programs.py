"""Reports with several programs: each program's leads see only theirs, global leads see
every one (archived ones too), and ``report programs`` puts them side by side.

On the world of tests/handlers/reports/two_programs.py.
"""

from __future__ import annotations

import pytest

from handlers import build_engine
from handlers.core.audit import entries
from handlers.core.errors import NotALead
from handlers.core.figures import as_json
from handlers.core.programs import Programs
from handlers.reports.catalogue import CATALOGUE, stored_program
from handlers.reports.programs import COLUMNS, AcrossKind
from storage import Database, Person
from tests.handlers.reports.pairs_world import LEAD_ID, NOW
from tests.handlers.reports.two_programs import (
    ARCHIVED,
    COPY,
    GLOBAL,
    LEADERSHIP,
    NAMES,
    OLD,
    PRIYA,
    REVERSE,
    calibrate,
    of_two,
    report_of,
    seed_two,
)
from tests.helpers import Chat, FakeClock

ONE_PROGRAM_KINDS = [n for n, k in CATALOGUE.kinds.items() if not isinstance(k, AcrossKind)]


@pytest.mark.parametrize("kind", ONE_PROGRAM_KINDS)
async def test_a_program_lead_sees_nothing_of_another_program(
    database: Database, programs: Programs, kind: str
) -> None:
    every = of_two(programs)
    leadership, reverse = every.get(LEADERSHIP), every.get(REVERSE)
    assert leadership is not None and reverse is not None
    await seed_two(database)
    alone = await report_of(database, leadership, actor=PRIYA, kind=kind)
    await seed_two(database, copy=COPY)

    beside = await report_of(database, leadership, actor=PRIYA, kind=kind)
    assert beside.as_dict() == alone.as_dict()
    assert "Bee " not in as_json(beside)
    with pytest.raises(NotALead):
        await report_of(database, reverse, actor=PRIYA, kind=kind)

    # The global lead sees the copy: the same figures, and only its own (marked) people.
    theirs = await report_of(database, reverse, actor=GLOBAL, kind=kind)
    assert theirs.figures == alone.figures
    shown = as_json(theirs)
    assert not [name for name in NAMES if name in shown.replace(f"Bee {name}", "")]


async def test_a_lead_is_refused_another_programs_report_in_chat_and_it_is_audited(
    database: Database, programs: Programs
) -> None:
    await seed_two(database)
    await seed_two(database, copy=COPY)
    engine = build_engine(programs=of_two(programs), database=database, clock=FakeClock(NOW))
    async with database.session() as session:
        priya = await session.get(Person, LEAD_ID)
    assert priya is not None
    refused = await Chat(engine, priya).send(f"report overview {REVERSE}")
    assert refused == "You don't lead Reverse Mentoring 2027, so you can't see its report overview."
    asked = await Chat(engine, priya).send(f"report overview {LEADERSHIP}")
    assert asked.startswith("== Program overview ==\nMentees (not left)  ")
    # Two programs led (leadership-2027, sales-pilot): which one?
    which = await Chat(engine, priya).send("report overview")
    assert which.startswith("Which program? Type report overview and the program's id:")
    async with database.session() as session:
        audit = await entries(session)
    assert [(e.actor, e.target, e.allowed, e.detail.get("program")) for e in audit] == [
        (PRIYA, "overview", False, REVERSE),
        (PRIYA, "overview", True, LEADERSHIP),
    ]


async def test_a_lead_of_one_program_gets_it_without_naming_it(
    database: Database, programs: Programs
) -> None:
    await seed_two(database)
    await seed_two(database, copy=COPY)
    only_reverse = Programs(
        [
            p.model_copy(update={"leads": [*p.global_leads, PRIYA]})
            if p.id == REVERSE
            else p.model_copy(update={"leads": list(p.global_leads)})
            for p in of_two(programs)
        ],
        leads=programs.leads,
    )
    engine = build_engine(programs=only_reverse, database=database, clock=FakeClock(NOW))
    async with database.session() as session:
        priya = await session.get(Person, LEAD_ID)
    assert priya is not None
    text = await Chat(engine, priya).send("report at-risk")
    assert "Bee Mia Chen" in text and "Lee Park" not in text


def row(table_rows: tuple[tuple[object, ...], ...], program: str) -> dict[str, object]:
    [found] = [r for r in table_rows if r[0] == program]
    return dict(zip(COLUMNS, found, strict=True))


async def test_report_programs_puts_each_program_a_global_lead_sees_side_by_side(
    database: Database, programs: Programs
) -> None:
    every = of_two(programs)
    await seed_two(database)
    await seed_two(database, copy=COPY)
    # Four people answered the fit question (Lee twice): 4, 5, 3, 2 and 5.
    await calibrate(database, [(1, 11, 4), (2, 12, 5), (3, 13, 3), (1, 1, 2), (1, 11, 5)])
    report = await report_of(database, every, actor=GLOBAL, kind="programs")
    [table] = report.tables
    assert [r[0] for r in table.rows] == [LEADERSHIP, REVERSE, "peer-circle", "sales-pilot"]
    assert row(table.rows, LEADERSHIP) == {
        "program": LEADERSHIP,
        "type": "one_to_one",
        "mentees": 14,  # 15, Uma left
        "mentors": 4,  # Eve left
        "peers": None,  # not a role of the program
        "active pairs": 6,
        "waitlist": 4,  # Quinn, Ravi, Sara, Wes
        "median wait (days)": 25.5,  # as report overview
        "sessions per pair per month": 0.7,  # as report cadence
        "at-risk share": "50%",  # Mia–Ana, Noa–Ben, Yara–Dev of 6
        "calibration fit": 3.8,  # five answers by four people
    }
    # The copy reads the same, but has no calibration answers.
    assert row(table.rows, REVERSE) == {
        **row(table.rows, LEADERSHIP),
        "program": REVERSE,
        "type": "reverse",
        "calibration fit": None,
    }
    assert row(table.rows, "peer-circle") == {
        "program": "peer-circle",
        "type": "peer",
        "mentees": None,
        "mentors": None,
        "peers": 0,
        "active pairs": 0,
        "waitlist": 0,
        "median wait (days)": None,
        "sessions per pair per month": None,
        "at-risk share": None,
        "calibration fit": None,
    }
    assert dict(report.figures) == {"Programs": "4"}


async def test_report_programs_hides_figures_of_fewer_than_the_group_size(
    database: Database, programs: Programs
) -> None:
    await seed_two(database)
    await calibrate(database, [(1, 11, 4), (2, 12, 5), (3, 13, 3), (1, 1, 2), (1, 11, 5)])
    report = await report_of(database, programs, actor=GLOBAL, kind="programs")
    assert row(report.tables[0].rows, LEADERSHIP) == {
        "program": LEADERSHIP,
        "type": "one_to_one",
        "mentees": 14,
        "mentors": "fewer than 5",
        "peers": None,
        "active pairs": 6,
        "waitlist": "fewer than 5",
        "median wait (days)": "fewer than 5 waiting",
        # January had 4 active pairs: its sessions would give them away.
        "sessions per pair per month": "withheld",
        "at-risk share": "fewer than 5",  # 3 pairs
        # Five answers, but by four people.
        "calibration fit": "fewer than 5 answered",
    }
    assert "Groups of fewer than 5 people" in report.notes[-1]


async def test_a_program_lead_sees_only_the_programs_they_lead_side_by_side(
    database: Database, programs: Programs
) -> None:
    await seed_two(database)
    await seed_two(database, copy=COPY)
    report = await report_of(database, programs, actor=PRIYA, kind="programs")
    assert [r[0] for r in report.tables[0].rows] == [LEADERSHIP, "sales-pilot"]
    with pytest.raises(NotALead):
        await report_of(database, programs, actor="lee@example.com", kind="programs")
    async with database.session() as session:
        audit = await entries(session)
    assert [(e.actor, e.allowed, e.detail["programs"]) for e in audit] == [
        (PRIYA, True, [LEADERSHIP, "sales-pilot"]),
        ("lee@example.com", False, []),
    ]


async def test_an_archived_program_stays_reportable_for_global_leads(
    database: Database, programs: Programs
) -> None:
    every = of_two(programs)
    await seed_two(database)
    await seed_two(database, copy=ARCHIVED)
    async with database.session() as session:
        old = await stored_program(session, every, OLD)
        assert await stored_program(session, every, "never-was") is None
    assert old is not None and old.archived
    report = await report_of(database, old, actor=GLOBAL, kind="overview")
    assert report.title == f"Program overview: {OLD} (archived)"
    leadership = every.get(LEADERSHIP)
    assert leadership is not None
    assert (
        report.figures
        == (await report_of(database, leadership, actor=GLOBAL, kind="overview")).figures
    )
    with pytest.raises(NotALead):
        await report_of(database, old, actor=PRIYA, kind="overview")

    side_by_side = await report_of(database, every, actor=GLOBAL, kind="programs")
    assert [r[0] for r in side_by_side.tables[0].rows][-1] == f"{OLD} (archived)"
    assert dict(side_by_side.figures) == {
        "Programs": "4",
        "Archived programs (no longer in the file)": "1",
    }
