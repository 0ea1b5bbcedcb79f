"""``report at-risk``: each pair needing attention, its reasons and suggested actions
(on the program in tests/handlers/reports/pairs_world.py)."""

from __future__ import annotations

from handlers import build_engine
from handlers.core.program import Program
from handlers.core.programs import Programs
from handlers.reports.at_risk import at_risk
from storage import Database, Person
from tests.handlers.reports.pairs_world import LEAD_ID, NOW, SECRET, build, figures, seed
from tests.helpers import Chat, FakeClock


async def test_at_risk_lists_each_pair_with_reasons_and_actions(
    database: Database, pairs_of_two: Program
) -> None:
    report = await build(database, at_risk, pairs_of_two)
    assert figures(report) == {
        "Pairs needing attention": "5",
        "Missed 2 or more check-ins in a row": "fewer than 2",
        "No session for 30 days or more": "2",
        "Said at calibration it isn't working": "fewer than 2",
        "Proposals unanswered near or past expiry": "2",
    }
    [table] = report.tables
    # The pair first (what each row is about), its id last.
    assert table.columns == (
        "mentee",
        "mentor",
        "status",
        "last session",
        "reasons",
        "suggested actions",
        "pairing",
    )
    assert table.rows == (
        (
            "Mia Chen",
            "Ana Lima",
            "active",
            "2027-01-20",
            "2 check-ins in a row missed; no session for 49 days",
            "Ask Ana whether they need help finding time; suggest a re-match if it isn't "
            "working; Ask both how it's going before closing is proposed at 60 days",
            "2",
        ),
        (
            "Noa Levi",
            "Ben Okafor",
            "active",
            "2027-03-01",
            "calibration: the mentee said it isn't working",
            "Talk to them both; offer a re-match",
            "3",
        ),
        (
            "Pia Berg",
            "Dev Rao",
            "proposed",
            None,
            "proposal unanswered by the mentor; it lapses on Thu 11 Mar at 12:00 (London time)",
            "Remind Dev to accept or decline",
            "5",
        ),
        (
            "Yara Kim",
            "Dev Rao",
            "active",
            None,
            "no session since pairing, 35 days ago",
            "Ask both how it's going before closing is proposed at 60 days",
            "12",
        ),
        (
            "Zed Fox",
            "Ben Okafor",
            "accepted",
            None,
            "proposal unanswered by the mentee; it lapsed on Tue 9 Mar at 12:00 (London time)",
            "It lapses at the bot's next run: ask Zed whether they still want to take part",
            "13",
        ),
    )


async def test_at_risk_suggests_a_close_after_the_auto_close_days(
    database: Database, pairs_of_two: Program
) -> None:
    quick = pairs_of_two.model_copy(
        update={"cadence": pairs_of_two.cadence.model_copy(update={"auto_close_after_days": 40})}
    )
    report = await build(database, at_risk, quick)
    # Silent after 20 days now: Mia–Ana (49 days) is past the 40 at which closing was
    # proposed; Omar–Cara stays out (Cara is paused).
    rows = {row[-1]: row for row in report.tables[0].rows}
    assert rows["2"][4] == "2 check-ins in a row missed; no session for 49 days"
    assert str(rows["2"][5]).endswith(
        "Past the 40 days after which closing is proposed: ask both whether to keep going or close"
    )
    assert "4" not in rows
    assert figures(report)["No session for 20 days or more"] == "2"


async def test_a_lead_asks_for_a_report_in_chat(database: Database, program: Program) -> None:
    await seed(database)
    async with database.session() as session:
        lead = await session.get(Person, LEAD_ID)
    assert lead is not None
    engine = build_engine(programs=Programs.one(program), database=database, clock=FakeClock(NOW))
    reply = await Chat(engine, lead).send("report at-risk")
    assert "Pairs needing attention" in reply
    assert "Mia Chen" in reply and "2 check-ins in a row missed; no session for 49 days" in reply
    assert SECRET not in reply


async def test_a_lead_far_away_reads_a_proposals_lapse_on_their_own_clock(
    database: Database, program: Program
) -> None:
    await seed(database)
    async with database.session() as session:
        lead = await session.get(Person, LEAD_ID)
        assert lead is not None
        lead.timezone = "Pacific/Auckland"
        session.add(lead)
    engine = build_engine(programs=Programs.one(program), database=database, clock=FakeClock(NOW))
    reply = await Chat(engine, lead).send("report at-risk")
    # 12:00 UTC on Thu 11 Mar is 01:00 on Friday in Auckland (UTC+13).
    assert (
        "proposal unanswered by the mentor; it lapses on Fri 12 Mar at 01:00 (your time)" in reply
    )
    assert "it lapsed on Wed 10 Mar at 01:00 (your time)" in reply
