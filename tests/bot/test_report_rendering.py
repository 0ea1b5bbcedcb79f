"""A lead's report in Slack and Teams: Block Kit and Adaptive Cards, a PNG chart, the CSV.

Charts are drawn for real (matplotlib) and checked as PNGs: the signature, the size in the
IHDR chunk, and a decode. Reports travel through the real server: a lead types ``report
KIND``, answers go to the fake Slack Web API (including the three steps of
``files_upload_v2``) or the fake Bot Connector, all on loopback.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import logging
import struct
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import charts
from bot.slack.blocks import MESSAGE_BLOCKS
from bot.slack.files import NO_CHART
from bot.slack.reports import render_messages, report_messages
from bot.teams.cards import CARD_BUDGET, render_card
from bot.teams.files import FILE_CONSENT_TYPE
from handlers.core.figures import Chart, Kind, Report, Table, as_csv
from handlers.core.program import Program
from handlers.reports.catalogue import CATALOGUE, report_reply
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
        async def build(session: AsyncSession, program: Program, *, now: datetime) -> Report:
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


def test_a_report_is_a_header_figure_fields_context_notes_and_a_table_block() -> None:
    [(text, blocks)] = render_messages([report_reply(probe_report())])
    assert [b["type"] for b in blocks] == [
        "header",
        "section",  # the figures
        "context",  # the notes
        "section",  # the table's title
        "context",  # the table's note
        "table",
    ]
    assert blocks[0]["text"]["text"] == "Probe: a small report"
    assert blocks[1]["fields"][2] == {
        "type": "mrkdwn",
        "text": "*Sessions &lt;this month&gt;*\n9",
    }
    assert blocks[2]["elements"] == [{"type": "mrkdwn", "text": "Counted over active pairs only."}]
    assert blocks[3]["text"]["text"] == "*Pairs by department*"
    assert blocks[4]["elements"][0]["text"] == "Departments with fewer than 5 pairs are not shown."
    cells = [[cell.get("text") for cell in row] for row in blocks[5]["rows"][1:]]
    assert cells == [
        ["Engineering", "7", "58.3"],
        ["Sales & Marketing", "5", "41.7"],
        ["Legal", "–", "–"],
    ]
    # The notification text is the title and the headline figures.
    assert text.startswith("Probe: a small report\nActive pairs: 12\n")


def test_more_than_ten_figures_take_several_sections() -> None:
    figures = tuple((f"Figure {i}", str(i)) for i in range(23))
    [(_, blocks)] = report_messages(Report("probe", "Many figures", figures))
    assert [len(b["fields"]) for b in blocks if b["type"] == "section"] == [10, 10, 3]


def test_a_report_message_never_passes_the_block_limit() -> None:
    figures = tuple((f"Figure {i}", str(i)) for i in range(600))
    table = Table("Table", ("a",), (("x",),))
    messages = report_messages(Report("probe", "Huge", figures, (table,), None, ("a note",)))
    [(_, blocks)] = messages
    assert len(blocks) <= MESSAGE_BLOCKS
    assert blocks[-1]["type"] == "table"  # the table stays, and so do the notes
    assert any(b["type"] == "context" and b["elements"][0]["text"] == "a note" for b in blocks)


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
    await slack.idle()
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
    assert upload.initial_comment == "Figures per pairing, as CSV: 40 rows."
    # Above the file, a table block shows a preview of the table, and says where the rest is.
    [post] = slack.fake.posts()
    blocks = post.args["blocks"]
    assert len(blocks[-1]["rows"]) == 1 + 5
    assert (
        "Shown here: the first 5 of 40 rows. All 40 rows are in export.csv, attached below."
        in json.dumps(blocks)
    )


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
    with caplog.at_level(logging.WARNING, logger="bot.slack.files"):
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


async def test_an_export_in_teams_is_a_preview_and_its_csv_offered_as_a_file(
    teams: TeamsHarness, catalogue: dict[str, Report]
) -> None:
    catalogue["export"] = export_report(rows=30)
    await teams.say("report export", sender=TEAMS_LEAD)
    offer = teams.last_attachment(FILE_CONSENT_TYPE)
    assert offer["name"] == "export.csv"
    assert offer["content"]["sizeInBytes"] == len(as_csv(catalogue["export"]).encode())
    card = teams.last_card()
    [table] = [e for e in card["body"] if e["type"] == "Table"]
    assert len(table["rows"]) == 1 + 5
    assert "All 30 rows are in export.csv, offered below" in json.dumps(card["body"])


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
    assert "of 2,000 rows. All 2,000 rows are in ops.csv, offered below" in data
    assert len(card["fallbackText"]) < 4_000

    big_export = render_card([report_reply(export_report(rows=20_000))])
    assert len(json.dumps(big_export, ensure_ascii=False)) <= CARD_BUDGET
    assert "All 20,000 rows are in export.csv" in json.dumps(big_export, ensure_ascii=False)


def test_a_cut_export_in_teams_counts_the_rows_left_and_still_says_what_was_generalised() -> None:
    """The card shows a preview, says how many rows the CSV holds, and keeps the table's note."""
    export = export_report(rows=2_000)
    note = "So that no one can be picked out, levels are in bands of 3."
    table = replace(export.tables[0], note=note)
    report = replace(export, tables=(table,))
    card = render_card([report_reply(report)])
    [shown] = [e for e in card["body"] if e["type"] == "Table"]
    body = json.dumps(card["body"], ensure_ascii=False)
    assert len(shown["rows"]) - 1 < 2_000
    assert "All 2,000 rows are in export.csv" in body
    assert note in body
    *_, last = csv.reader(io.StringIO(as_csv(report)))
    assert last[0] == f"Note: {note}"


def test_a_chart_that_could_not_be_drawn_is_mentioned_on_the_card() -> None:
    report = probe_report()
    assert report.chart is not None
    card = render_card([report_reply(report)], pictures={report.chart: None})
    assert "Image" not in [e["type"] for e in card["body"]]
    assert "The chart could not be drawn" in json.dumps(card["body"])


def test_a_label_that_reads_as_mathtext_is_drawn_as_text() -> None:
    """A department named with dollar signs is a name, not a formula to typeset."""
    from bot import charts
    from handlers.core.figures import Chart

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
