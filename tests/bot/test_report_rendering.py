"""A lead's report in Slack and Teams: Block Kit and Adaptive Cards, a PNG chart, the CSV.

Charts are drawn for real (matplotlib) and checked as PNGs: the signature, the size in the
IHDR chunk, and a decode. Reports travel through the real server: a lead types ``report
KIND``, answers go to the fake Slack Web API (including the three steps of
``files_upload_v2``) or the fake Bot Connector, all on loopback.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import struct
from datetime import datetime
from typing import Any

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import charts
from bot.slack.app import NO_CHART
from bot.slack.blocks import MESSAGE_BLOCKS, SECTION_LIMIT, render_message, report_blocks
from bot.teams.cards import CARD_BUDGET, render_card
from handlers.figures import Chart, Kind, Report, Table, as_csv
from handlers.program import Program
from handlers.reports import CATALOGUE, report_reply
from tests.bot.slack_harness import LEAD as SLACK_LEAD
from tests.bot.slack_harness import SlackHarness
from tests.bot.teams_harness import LEAD as TEAMS_LEAD
from tests.bot.teams_harness import TeamsHarness

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LEAD_DM = f"D{SLACK_LEAD}"

MONTHS = ("2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11")
CHARTS = {
    "bar": Chart(
        "bar",
        "Match rate by department",
        ("Engineering", "Sales", "People & Culture operations", "Finance"),
        (("matched (%)", (80.0, 55.5, 100.0, 40.0)),),
        "% of mentees matched",
    ),
    "line": Chart(
        "line",
        "Sessions per active pair, by month",
        MONTHS,
        (("sessions per pair", (0.5, 1.0, 1.5, 1.2, 2.0, 1.8)), ("target", (2.0,) * 6)),
        "sessions per pair",
    ),
    "histogram": Chart(
        "histogram",
        "Sessions in the last 90 days, per active pair",
        ("0", "1", "2", "3", "4", "5+"),
        (("pairs", (3.0, 5.0, 8.0, 4.0, 2.0, 1.0)),),
        "pairs",
    ),
}


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk, which must come first."""
    assert png[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", png[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def assert_valid_png(png: bytes) -> None:
    """A PNG of the intended size that a decoder reads, and not a blank canvas."""
    assert png_size(png) == (charts.WIDTH_PX, charts.HEIGHT_PX)
    assert png.endswith(b"IEND\xaeB`\x82")
    image_module = pytest.importorskip("PIL.Image")
    with image_module.open(io.BytesIO(png)) as image:
        image.load()
        assert image.size == (charts.WIDTH_PX, charts.HEIGHT_PX)
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 10


def probe_report(*, chart: Chart | None = CHARTS["line"], kind: str = "probe") -> Report:
    return Report(
        kind,
        "Probe: a small report",
        (("Active pairs", "12"), ("On cadence", "75%"), ("Sessions <this month>", "9")),
        (
            Table(
                "Pairs by department",
                ("department", "pairs", "share"),
                (("Engineering", 7, 58.3), ("Sales & Marketing", 5, 41.7), ("Legal", None, None)),
                note="Departments with fewer than 5 pairs are not shown.",
            ),
        ),
        chart,
        ("Counted over active pairs only.",),
    )


def export_report(rows: int = 3) -> Report:
    return Report(
        "export",
        "Export: figures per pairing",
        (("Pairings", str(rows)),),
        (
            Table(
                "Figures per pairing",
                ("pairing", "mentee department", "sessions"),
                tuple((i, "Engineering", i * 2) for i in range(1, rows + 1)),
            ),
        ),
        None,
        ("No session notes are included.",),
    )


@pytest.fixture
def catalogue(monkeypatch: pytest.MonkeyPatch) -> dict[str, Report]:
    """Offer test-only report kinds: each name set in the dict is built as that report."""
    offered: dict[str, Report] = {}

    def offer(name: str) -> None:
        async def build(session: AsyncSession, program: Program, now: datetime) -> Report:
            return offered[name]

        monkeypatch.setitem(CATALOGUE.kinds, name, Kind(name, "a test-only report", build))

    for name in ("probe", "export"):
        offer(name)
    return offered  # monkeypatch takes the kinds back out after the test


# -- charts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(CHARTS))
def test_each_kind_of_chart_is_a_valid_png_of_the_intended_size(kind: str) -> None:
    png = charts.render_png(CHARTS[kind])
    assert png is not None
    assert_valid_png(png)
    # A chart of a few points stays small enough to post and to carry inside a card.
    assert 2_000 < len(png) < 200_000


def test_many_long_labels_still_make_a_chart_of_the_same_size() -> None:
    labels = tuple(f"Department of long and winding names {i}" for i in range(40))
    chart = Chart("bar", "Many groups", labels, (("pairs", tuple(float(i) for i in range(40))),))
    png = charts.render_png(chart)
    assert png is not None
    assert_valid_png(png)


def test_a_chart_without_values_draws_nothing() -> None:
    assert charts.render_png(Chart("line", "Nothing yet", MONTHS, ())) is None
    assert charts.render_png(Chart("bar", "Nothing yet", (), (("pairs", ()),))) is None
    assert charts.render_png(Chart("bar", "Nothing yet", ("a",), (("pairs", ()),))) is None


def test_a_series_that_does_not_fit_its_labels_is_refused() -> None:
    chart = Chart("bar", "Broken", ("a", "b"), (("pairs", (1.0,)),))
    with pytest.raises(ValueError, match="has 1 values for 2 labels"):
        charts.render_png(chart)


def test_the_alt_text_says_what_the_chart_shows() -> None:
    text = charts.alt_text(CHARTS["histogram"])
    assert text.startswith("Histogram: Sessions in the last 90 days, per active pair.")
    assert "pairs: 0 3, 1 5, 2 8, 3 4, 4 2, 5+ 1." in text


# -- Block Kit ------------------------------------------------------------------------------


def test_a_report_is_a_header_figure_fields_a_code_block_per_table_and_context_notes() -> None:
    text, blocks = render_message([report_reply(probe_report())])
    assert [b["type"] for b in blocks] == ["header", "section", "section", "context"]
    assert blocks[0]["text"]["text"] == "Probe: a small report"
    assert blocks[1]["fields"][2] == {
        "type": "mrkdwn",
        "text": "*Sessions &lt;this month&gt;*\n9",
    }
    table = blocks[2]["text"]["text"]
    assert table == (
        "*Pairs by department*\n"
        "```\n"
        "department         pairs  share\n"
        "-----------------  -----  -----\n"
        "Engineering            7   58.3\n"
        "Sales &amp; Marketing      5   41.7\n"
        "Legal                  –      –\n"
        "```\n"
        "_Departments with fewer than 5 pairs are not shown._"
    )
    assert blocks[3]["elements"] == [{"type": "mrkdwn", "text": "Counted over active pairs only."}]
    # The notification text is the title and the headline figures.
    assert text.startswith("Probe: a small report\nActive pairs: 12\n")


def test_more_than_ten_figures_take_several_sections() -> None:
    figures = tuple((f"Figure {i}", str(i)) for i in range(23))
    blocks = report_blocks(Report("probe", "Many figures", figures))
    assert [len(b["fields"]) for b in blocks if b["type"] == "section"] == [10, 10, 3]


def test_a_long_table_is_cut_to_fit_and_says_how_to_get_every_row() -> None:
    rows = tuple((f"Person number {i}", f"person{i}@example.com", i) for i in range(400))
    report = Report(
        "ops",
        "Operations",
        tables=(
            Table("Everyone", ("person", "email", "messages"), rows),
            Table("Everyone again", ("person", "email", "messages"), rows),
        ),
    )
    blocks = report_blocks(report)
    first, second = blocks[1]["text"]["text"], blocks[2]["text"]["text"]
    assert len(first) <= SECTION_LIMIT and len(second) <= SECTION_LIMIT
    assert first.count("Person number") == 25
    assert first.endswith(
        "```\n… 375 more rows, run `mentorbot report ops --format csv --as EMAIL` for all"
    )
    # CSV holds the first table only; JSON holds them all.
    assert second.endswith("run `mentorbot report ops --format json --as EMAIL` for all")


def test_wide_rows_are_cut_sooner_to_stay_within_a_section() -> None:
    rows = tuple((f"{'x' * 200} {i}", i) for i in range(25))
    [_, section] = report_blocks(Report("ops", "Wide", tables=(Table("Wide", ("a", "n"), rows),)))
    text = section["text"]["text"]
    assert len(text) <= SECTION_LIMIT
    assert "more rows, run `mentorbot report ops" in text


def test_a_report_never_passes_the_block_limit() -> None:
    tables = tuple(Table(f"Table {i}", ("a",), (("x",),)) for i in range(80))
    figures = tuple((f"Figure {i}", str(i)) for i in range(15))
    blocks = report_blocks(Report("probe", "Huge", figures, tables, None, ("a note",)))
    assert len(blocks) == MESSAGE_BLOCKS
    assert blocks[-1]["type"] == "context"  # the notes stay
    left_out = blocks[-2]["elements"][0]["text"]
    assert left_out.endswith(
        "more tables did not fit; run `mentorbot report probe` for all of them"
    )


# -- Slack, end to end ----------------------------------------------------------------------


async def test_a_lead_typing_report_ops_gets_block_kit(slack: SlackHarness) -> None:
    await slack.dm("report ops", user=SLACK_LEAD)
    [post] = await slack.fake.wait_for("chat.postMessage")
    assert post["channel"] == LEAD_DM
    blocks = post["blocks"]
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Operations: message delivery", "emoji": True},
    }
    assert blocks[1]["fields"][0] == {"type": "mrkdwn", "text": "*Waiting to go out*\n0"}
    assert blocks[-1]["type"] == "context"
    assert post["text"].startswith("Operations: message delivery\nWaiting to go out: 0")
    await slack.settle()
    # The ops report has no chart: nothing is uploaded.
    assert slack.fake.attempts("files.getUploadURLExternal") == []


async def test_a_report_with_a_chart_is_uploaded_to_the_dm_after_its_blocks(
    slack: SlackHarness, catalogue: dict[str, Report]
) -> None:
    catalogue["probe"] = probe_report()
    await slack.dm("report probe", user=SLACK_LEAD)
    await slack.fake.wait_for("files.completeUploadExternal")
    steps = [c.method for c in slack.fake.calls if c.method not in ("users.info", "auth.test")]
    assert steps == [
        "chat.postMessage",
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    [post] = slack.fake.posts()
    assert post.args["blocks"][0]["text"]["text"] == "Probe: a small report"
    [asked] = slack.fake.of("files.getUploadURLExternal")
    assert asked["filename"] == "probe.png"
    assert asked["alt_txt"].startswith("Line chart: Sessions per active pair, by month.")
    [upload] = slack.fake.files()
    assert upload.data is not None
    assert int(asked["length"]) == len(upload.data)
    assert_valid_png(upload.data)
    assert (upload.channel, upload.filename, upload.title) == (
        LEAD_DM,
        "probe.png",
        "Sessions per active pair, by month",
    )
    assert upload.initial_comment == "Probe: a small report: Sessions per active pair, by month"


async def test_an_export_uploads_its_csv_instead_of_a_chart(
    slack: SlackHarness, catalogue: dict[str, Report]
) -> None:
    catalogue["export"] = export_report(rows=40)
    await slack.dm("report export", user=SLACK_LEAD)
    await slack.fake.wait_for("files.completeUploadExternal")
    [upload] = slack.fake.files()
    assert (upload.channel, upload.filename) == (LEAD_DM, "export.csv")
    assert upload.data is not None
    assert upload.data.decode() == as_csv(catalogue["export"])
    assert upload.data.decode().splitlines()[:2] == [
        "pairing,mentee department,sessions",
        "1,Engineering,2",
    ]
    assert (
        upload.initial_comment
        == "Export: figures per pairing: all 40 rows as CSV, for a spreadsheet."
    )
    # Above the file, the blocks show a preview of the table.
    [post] = slack.fake.posts()
    table = post.args["blocks"][2]["text"]["text"]
    assert "… 35 more rows, run `mentorbot report export --format csv --as EMAIL` for all" in table


@pytest.mark.parametrize(
    ("step", "status", "error"),
    [
        ("files.getUploadURLExternal", 200, "not_allowed_token_type"),
        ("upload", 403, "forbidden"),
        ("files.completeUploadExternal", 200, "missing_scope"),
    ],
)
async def test_an_upload_that_fails_leaves_the_report_and_says_so(
    slack: SlackHarness,
    catalogue: dict[str, Report],
    caplog: pytest.LogCaptureFixture,
    step: str,
    status: int,
    error: str,
) -> None:
    catalogue["probe"] = probe_report()
    slack.fake.fail(step, status=status, error=error)
    with caplog.at_level(logging.WARNING, logger="bot.slack.app"):
        await slack.dm("report probe", user=SLACK_LEAD)
        posts = await slack.fake.wait_for("chat.postMessage", 2)
    report, notice = posts
    assert report["blocks"][0]["text"]["text"] == "Probe: a small report"
    assert (notice["channel"], notice["text"]) == (LEAD_DM, NO_CHART)
    assert slack.fake.files() == []
    [logged] = [r.getMessage() for r in caplog.records if "could not upload" in r.getMessage()]
    assert logged.startswith("slack: could not upload probe.png for the probe report (")
    # The log names the failure, never what the report said.
    assert "Engineering" not in logged and "xoxb" not in logged
    if step != "upload":
        assert f"({error})" in logged


async def test_a_chart_that_cannot_be_drawn_leaves_the_report_and_says_so(
    slack: SlackHarness, catalogue: dict[str, Report]
) -> None:
    broken = Chart("bar", "Broken", ("a", "b"), (("pairs", (1.0,)),))
    catalogue["probe"] = probe_report(chart=broken)
    await slack.dm("report probe", user=SLACK_LEAD)
    report, notice = await slack.fake.wait_for("chat.postMessage", 2)
    assert report["blocks"][0]["type"] == "header"
    assert notice["text"] == NO_CHART
    assert slack.fake.attempts("files.getUploadURLExternal") == []


# -- Adaptive Cards -------------------------------------------------------------------------


def image_png(card: dict[str, Any]) -> bytes:
    [image] = [e for e in card["body"] if e["type"] == "Image"]
    prefix = "data:image/png;base64,"
    assert image["url"].startswith(prefix)
    return base64.b64decode(image["url"].removeprefix(prefix), validate=True)


async def test_a_lead_gets_a_report_card_with_facts_a_table_and_the_chart(
    teams: TeamsHarness, catalogue: dict[str, Report]
) -> None:
    catalogue["probe"] = probe_report()
    response = await teams.say("report probe", sender=TEAMS_LEAD)
    assert response.status in (200, 201)
    card = teams.last_card()
    assert card["version"] == "1.5"
    assert card["msteams"] == {"width": "Full"}
    kinds = [e["type"] for e in card["body"]]
    assert kinds == [
        "TextBlock",  # the title
        "FactSet",
        "Image",
        "TextBlock",  # the table's title
        "Table",
        "TextBlock",  # the table's note
        "TextBlock",  # the report's note
    ]
    assert card["body"][1]["facts"][0] == {"title": "Active pairs", "value": "12"}
    table = card["body"][4]
    assert table["firstRowAsHeader"] is True
    assert [c["horizontalCellContentAlignment"] for c in table["columns"]] == [
        "Left",
        "Right",
        "Right",
    ]
    cells = [[cell["items"][0]["text"] for cell in row["cells"]] for row in table["rows"]]
    assert cells == [
        ["department", "pairs", "share"],
        ["Engineering", "7", "58.3"],
        ["Sales & Marketing", "5", "41.7"],
        ["Legal", "–", "–"],
    ]
    assert table["rows"][0]["cells"][0]["items"][0]["weight"] == "Bolder"
    png = image_png(card)
    assert_valid_png(png)
    assert card["body"][2]["altText"].startswith("Line chart: Sessions per active pair")
    assert card["fallbackText"].startswith("== Probe: a small report ==")


async def test_ordinary_replies_stay_on_card_version_1_4(teams: TeamsHarness) -> None:
    await teams.say("help", sender=TEAMS_LEAD)
    card = teams.last_card()
    assert card["version"] == "1.4"
    assert "msteams" not in card


async def test_an_export_in_teams_is_a_csv_block_to_copy(
    teams: TeamsHarness, catalogue: dict[str, Report]
) -> None:
    catalogue["export"] = export_report(rows=3)
    await teams.say("report export", sender=TEAMS_LEAD)
    card = teams.last_card()
    [csv_block] = [e for e in card["body"] if e.get("fontType") == "Monospace"]
    # One paragraph per row: Teams joins lines split by a single newline (issue 17, item 5).
    assert csv_block["text"] == "\n\n".join(as_csv(catalogue["export"]).splitlines())
    assert "Table" not in [e["type"] for e in card["body"]]
    assert "export.csv" in json.dumps(card["body"])


def test_a_huge_report_card_stays_within_teams_message_size() -> None:
    rows = tuple((f"Person number {i}", f"person{i}@example.com", i, i / 3) for i in range(2000))
    tables = tuple(Table(f"Table {t}", ("person", "email", "n", "share"), rows) for t in range(6))
    report = Report("ops", "Huge", (("People", "2,000"),), tables, CHARTS["bar"], ("note",))
    card = render_card([report_reply(report)])
    data = json.dumps(card, ensure_ascii=False)
    [image] = [e for e in card["body"] if e["type"] == "Image"]
    assert len(data) - len(image["url"]) <= CARD_BUDGET
    shown = [e for e in card["body"] if e["type"] == "Table"]
    assert len(shown) == 6 and all(len(t["rows"]) > 1 for t in shown)
    assert "more rows, run `mentorbot report ops --format csv --as EMAIL` for all" in data
    assert len(card["fallbackText"]) < 4_000

    big_export = render_card([report_reply(export_report(rows=20_000))])
    assert len(json.dumps(big_export, ensure_ascii=False)) <= CARD_BUDGET
    assert "more rows, run `mentorbot report export --format csv --as EMAIL` for all" in (
        json.dumps(big_export)
    )


def test_a_chart_that_could_not_be_drawn_is_mentioned_on_the_card() -> None:
    report = probe_report()
    assert report.chart is not None
    card = render_card([report_reply(report)], pictures={report.chart: None})
    assert "Image" not in [e["type"] for e in card["body"]]
    assert "The chart could not be drawn" in json.dumps(card["body"])


def test_a_label_that_reads_as_mathtext_is_drawn_as_text() -> None:
    """A department named with dollar signs is a name, not a formula to typeset."""
    from bot import charts
    from handlers.figures import Chart

    chart = Chart(
        kind="bar",
        title="Pairings by department: $\\frac{x$",
        labels=("R&D $\\frac{x$", "Sales_$x^2$"),
        series=(("pairings", (3.0, 5.0)),),
        y_label="$y",
    )
    png = charts.render_png(chart)
    assert png is not None
    assert png.startswith(b"\x89PNG")
