"""Report charts a lead can read at a glance, and no chart where there is nothing to show.

A rate or an average is drawn from the bottom of its scale (0, or 1 for a 1–5 rating), not
from the data's lowest value; months run on a real time axis, a month without a value is a
gap; every month is written "Sep 2026"; titles use the question's words, never its id. A
series of zeros, or of values too few to show, is not drawn: the report says why instead.

The charts' numbers are read back from matplotlib's own Axes and lines; the flows run
through the real server to the fake Slack Web API and Bot Connector.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from bot import charts
from handlers.core.figures import Chart
from handlers.core.program import Program
from storage import Database, Feedback, Pairing, Person
from tests.bot.slack_harness import LEAD as SLACK_LEAD
from tests.bot.slack_harness import SlackHarness
from tests.bot.teams_harness import LEAD as TEAMS_LEAD
from tests.bot.teams_harness import TeamsHarness

MONTHS = ("2026-08", "2026-09", "2026-10", "2026-11")
LABELS = ("Aug 2026", "Sep 2026", "Oct 2026", "Nov 2026")
#: How every chart and table writes a month.
MONTH = re.compile(r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}")


def rate(values: tuple[float | None, ...], **changes: object) -> Chart:
    chart = Chart(
        "line",
        "Sessions per active pair, by month",
        LABELS,
        (("sessions per pair", values),),
        "sessions per pair",
        months=MONTHS,
    )
    return chart if not changes else Chart(**{**chart.__dict__, **changes})  # type: ignore[arg-type]


def draw(chart: Chart) -> Any:
    """The chart's matplotlib figure, as the PNG is drawn from it."""
    return charts.draw_figure(chart)


# -- the y-axis -----------------------------------------------------------------------------


def test_a_rate_starts_its_y_axis_at_zero_not_at_its_lowest_value() -> None:
    axes = draw(rate((0.6, 0.7, 0.65, 0.8))).axes[0]
    low, high = axes.get_ylim()
    assert low == 0
    assert 0.8 < high < 1.0


def test_a_rating_from_1_to_5_is_drawn_on_its_whole_scale() -> None:
    chart = rate((4.1, 4.3, None, 4.2), y_label="average answer", scale=(1.0, 5.0))
    axes = draw(chart).axes[0]
    assert axes.get_ylim() == (1.0, 5.0)


def test_a_percentage_runs_from_0_to_100() -> None:
    chart = Chart(
        "bar",
        "Match rate by department",
        ("Engineering", "Sales"),
        (("matched (%)", (85.7, 92.0)),),
        "% of mentees matched",
        scale=(0.0, 100.0),
    )
    axes = draw(chart).axes[0]
    assert axes.get_ylim() == (0.0, 100.0)


# -- the time axis --------------------------------------------------------------------------


def test_a_month_without_a_value_is_a_gap_on_a_real_time_axis() -> None:
    axes = draw(rate((0.6, None, 0.7, 0.8))).axes[0]
    [line] = axes.get_lines()
    ys = list(line.get_ydata())  # type: ignore[arg-type]
    assert ys[0] == 0.6 and math.isnan(ys[1]) and ys[2:] == [0.7, 0.8]
    # x is time: August has 31 days, September 30, October 31.
    xs = list(line.get_xdata())  # type: ignore[arg-type]
    assert [b - a for a, b in itertools.pairwise(xs)] == [31, 30, 31]


def test_months_missing_from_a_series_are_spaced_by_the_time_between_them() -> None:
    chart = Chart(
        "line",
        "Average answer by month",
        ("Aug 2026", "Nov 2026"),
        (("average answer", (4.0, 4.5)),),
        months=("2026-08", "2026-11"),
        scale=(1.0, 5.0),
    )
    [line] = draw(chart).axes[0].get_lines()
    xs = list(line.get_xdata())  # type: ignore[arg-type]
    assert xs[1] - xs[0] == 31 + 30 + 31  # three months apart, not one step


def test_every_month_is_written_the_same_way() -> None:
    figure = draw(rate((0.6, 0.7, 0.65, 0.8)))
    figure.canvas.draw()
    ticks = [tick.get_text() for tick in figure.axes[0].get_xticklabels()]
    assert ticks == ["Aug 2026", "Sep 2026", "Oct 2026", "Nov 2026"]
    from handlers.core.figures import month_label, months_between

    assert months_between("2026-11", "2027-02") == ["2026-11", "2026-12", "2027-01", "2027-02"]
    assert month_label("2026-09") == "Sep 2026"


def test_a_long_time_axis_writes_fewer_months_but_each_in_full() -> None:
    months = tuple(f"{2025 + (11 + i) // 12}-{(11 + i) % 12 + 1:02d}" for i in range(15))
    assert months[0] == "2025-12" and months[-1] == "2027-02"
    chart = Chart(
        "line",
        "Long",
        tuple(months),
        (("n", tuple(float(i) for i in range(len(months)))),),
        months=months,
    )
    figure = draw(chart)
    figure.canvas.draw()
    ticks = [tick.get_text() for tick in figure.axes[0].get_xticklabels()]
    assert ticks[0] == "Dec 2025" and len(ticks) <= 8
    assert all(MONTH.fullmatch(tick) for tick in ticks)


# -- nothing to draw ------------------------------------------------------------------------


def test_a_series_of_zeros_or_of_hidden_values_is_not_drawn() -> None:
    assert charts.render_png(rate((0.0, 0.0, None, 0.0))) is None
    assert charts.render_png(rate((None, None, None, None))) is None
    both = rate(
        (0.6, 0.7, 0.65, 0.8),
        series=(("sessions per pair", (0.6, 0.7, 0.65, 0.8)), ("target", (0.0,) * 4)),
    )
    axes = draw(both).axes[0]
    assert [line.get_label() for line in axes.get_lines()] == ["sessions per pair"]


# -- in chat --------------------------------------------------------------------------------


async def seed_pair(database: Database, program: Program, *, activated: datetime) -> Pairing:
    """A mentee and a mentor, paired and active since ``activated``; no sessions."""
    async with database.session() as session:
        people = [
            Person(email=f"{who}@example.org", name=who.title(), created_at=activated)
            for who in ("mentee", "mentor")
        ]
        for person in people:
            person.updated_at = activated
        session.add_all(people)
        await session.flush()
        pair = Pairing(
            program=program.id,
            mentee_id=people[0].id,
            mentor_id=people[1].id,
            status="active",
            batch="test",
            proposed_at=activated,
            expires_at=activated,
            activated_at=activated,
        )
        session.add(pair)
        await session.flush()
        await session.refresh(pair)
        return pair


async def seed_pulses(database: Database, pair: Pairing, ratings: dict[str, list[int]]) -> None:
    """Answered pulse surveys, rating "How useful was the session?", by month."""
    assert pair.id is not None
    async with database.session() as session:
        for month, given in ratings.items():
            year, number = (int(part) for part in month.split("-"))
            for day, rating in enumerate(given, start=1):
                moment = datetime(year, number, day, 12, tzinfo=UTC)
                session.add(
                    Feedback(
                        key=f"pulse:{month}:{day}",
                        pairing_id=pair.id,
                        program=pair.program,
                        survey="pulse",
                        respondent_id=pair.mentee_id,
                        role="mentee",
                        status="answered",
                        answers={"usefulness": rating, "next_step": "Yes"},
                        asked_at=moment,
                        answered_at=moment,
                    )
                )


async def test_the_feedback_chart_speaks_in_the_questions_words_with_gaps(
    slack: SlackHarness, database: Database, program: Program
) -> None:
    pair = await seed_pair(database, program, activated=datetime(2026, 7, 1, tzinfo=UTC))
    # Five answers in August and in October; none in September.
    await seed_pulses(database, pair, {"2026-08": [4, 4, 5, 3, 4], "2026-10": [5, 5, 4, 4, 5]})
    await slack.dm("report feedback", user=SLACK_LEAD)
    await slack.fake.wait_for("files.completeUploadExternal")
    [asked] = slack.fake.of("files.getUploadURLExternal")
    [upload] = slack.fake.files()
    title = "“How useful was the session?”: average answer by month"
    assert upload.title == title
    alt = asked["alt_txt"]
    assert alt.startswith(f"Line chart: {title}.")
    assert "Aug 2026 4, Sep 2026 no figure, Oct 2026 4.6." in alt
    for said in (upload.title, alt, upload.initial_comment or ""):
        assert "usefulness" not in said and "pulse" not in said


async def test_a_cadence_without_a_session_has_no_chart_and_says_why_in_slack(
    slack: SlackHarness, database: Database, program: Program
) -> None:
    await seed_pair(database, program, activated=datetime(2026, 4, 1, tzinfo=UTC))
    await slack.dm("report cadence", user=SLACK_LEAD)
    await slack.idle()
    said = json.dumps([post.args["blocks"] for post in slack.fake.posts()], ensure_ascii=False)
    assert "No chart of sessions by month: no session was logged in the last 6 full months." in (
        said
    )
    assert slack.fake.attempts("files.getUploadURLExternal") == []


async def test_a_cadence_without_a_session_has_no_chart_and_says_why_in_teams(
    teams: TeamsHarness, database: Database, program: Program
) -> None:
    await seed_pair(database, program, activated=datetime(2026, 4, 1, tzinfo=UTC))
    await teams.say("report cadence", sender=TEAMS_LEAD)
    card = teams.last_card()
    assert "Image" not in [element["type"] for element in card["body"]]
    assert "No chart of sessions by month: no session was logged" in teams.last_text()


async def test_a_feedback_chart_with_every_month_too_small_is_not_drawn_and_says_why(
    slack: SlackHarness, database: Database, program: Program
) -> None:
    pair = await seed_pair(database, program, activated=datetime(2026, 7, 1, tzinfo=UTC))
    await seed_pulses(database, pair, {"2026-09": [4, 5], "2026-10": [3, 4, 4]})
    await slack.dm("report feedback", user=SLACK_LEAD)
    await slack.idle()
    said = json.dumps([post.args["blocks"] for post in slack.fake.posts()], ensure_ascii=False)
    assert (
        "No chart of the answers to “How useful was the session?” by month: no month has 5 "
        "answers or more that can be shown." in said
    )
    assert slack.fake.attempts("files.getUploadURLExternal") == []


@pytest.mark.parametrize("kind", ["cadence", "feedback"])
async def test_report_tables_write_months_as_every_chart_does(
    slack: SlackHarness, database: Database, program: Program, kind: str
) -> None:
    pair = await seed_pair(database, program, activated=datetime(2026, 7, 1, tzinfo=UTC))
    await seed_pulses(database, pair, {"2026-08": [4, 4, 5, 3, 4]})
    await slack.dm(f"report {kind}", user=SLACK_LEAD)
    await slack.idle()
    [table] = [
        block
        for post in slack.fake.posts()
        for block in post.args["blocks"]
        if block["type"] == "table"
        and block["rows"][0][0]["elements"][0]["elements"][0]["text"] == "month"
    ]
    months = [row[0]["text"] for row in table["rows"][1:]]
    assert months and all(MONTH.fullmatch(month) for month in months)
