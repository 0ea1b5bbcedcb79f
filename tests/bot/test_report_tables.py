"""Report tables as people see them: Slack's native table block and Teams' card Table.

A Slack table block holds at most 100 rows (the heading row among them), 20 cells a row and
10,000 characters in all; a message holds one table. A Teams card shows at most six columns,
each as wide as its content asks. What does not fit goes to the table's CSV, sent with the
report, and the message says how many rows the file holds; no chat message ever asks a
person to run a command-line command. Blocks are checked with slack_sdk's own models.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from slack_sdk.models.blocks import Block, RawTextObject, RichTextBlock, TableBlock
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.teams.cards import CARD_BUDGET, render_card
from bot.teams.files import FILE_CONSENT_TYPE
from handlers.core.figures import Kind, Report, Table, as_json
from handlers.core.messages import Attachment
from handlers.core.program import Program
from handlers.core.programs import Programs
from handlers.reports.catalogue import CATALOGUE, report_reply
from storage import Database
from tests.bot.slack_harness import LEAD as SLACK_LEAD
from tests.bot.slack_harness import SlackHarness
from tests.bot.teams_harness import LEAD as TEAMS_LEAD
from tests.bot.teams_harness import TeamsHarness
from tests.bot.test_my_data_files import FileStore
from tests.bot.test_my_data_files import files as files  # the OneDrive stand-in fixture
from tests.helpers import FakeClock

LEAD_DM = f"D{SLACK_LEAD}"
#: Slack's documented limits: blocks in a message; rows (the heading row among them), cells
#: a row and characters in all cells of a table block.
MESSAGE_BLOCKS = 50
TABLE_ROWS = 100
TABLE_COLUMNS = 20
TABLE_CHARS = 10_000
AT_RISK_COLUMNS = (
    "mentee",
    "mentor",
    "status",
    "last session",
    "reasons",
    "suggested actions",
    "pairing",
)
MENTOR_COLUMNS = (
    "mentor",
    "email",
    "status",
    "capacity",
    "active mentees",
    "proposals",
    "free places",
    "last session",
    "readiness answers",
    "coaching",
    "availability",
    "domain credibility",
)


def at_risk_report(count: int = 27) -> Report:
    """An at-risk report as a busy program gives it: rows of 200 characters and more."""
    rows = tuple(
        (
            f"Mentee Number{i}",
            f"Mentor Number{i % 7}",
            "active",
            f"2027-01-{1 + i % 28:02d}",
            f"2 check-ins in a row missed; no session for {40 + i} days",
            f"Ask Mentor{i % 7} whether they need help finding time; suggest a re-match if "
            "it isn't working; ask both how it's going before closing is proposed at 60 days",
            str(100 + i),
        )
        for i in range(count)
    )
    table = Table("Pairs needing attention (most reasons first)", AT_RISK_COLUMNS, rows)
    return Report("at-risk", "At risk: pairs that need a lead", (("Pairs", str(count)),), (table,))


def mentors_report(count: int = 45) -> Report:
    rows = tuple(
        (
            f"Mentor Number{i}",
            f"mentor.number{i}@example.com",
            "available",
            3,
            i % 4,
            i % 2,
            max(0, 3 - i % 4 - i % 2),
            "2027-02-14",
            "fewer than 5",
            None,
            4.2,
            None,
        )
        for i in range(count)
    )
    table = Table("Mentors", MENTOR_COLUMNS, rows)
    return Report("mentors", "Mentors: load and readiness", (("Mentors", str(count)),), (table,))


def ops_report(rows: int) -> Report:
    people = tuple((f"Person number {i}", f"person{i}@example.com", i) for i in range(rows))
    table = Table("Everyone", ("person", "email", "messages"), people)
    return Report("ops", "Operations", (("People", str(rows)),), (table,))


def render_messages(report: Report) -> list[tuple[str, list[dict[str, Any]]]]:
    """The report as the Slack messages the bot posts."""
    from bot.slack import reports

    return reports.render_messages([report_reply(report)])


def report_files(report: Report) -> list[tuple[Attachment, str]]:
    """The files the bot uploads after a report's messages, each with its comment."""
    from bot.slack import reports

    return reports.report_files(report)


def fitted_card(report: Report) -> tuple[dict[str, Any], list[tuple[str, Attachment]]]:
    """The report's Teams card, and the files offered after it."""
    from bot.teams import cards

    return cards.fitted_card([report_reply(report)])


def table_csv(table: Table) -> str:
    """One table as CSV: its headings, then every row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.columns)
    writer.writerows(["" if c is None else c for c in row] for row in table.rows)
    return out.getvalue()


def tables_of(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for b in blocks if b["type"] == "table"]


def assert_valid_slack_message(blocks: list[dict[str, Any]]) -> None:
    """Within Slack's limits, and accepted by slack_sdk's Block Kit models."""
    assert len(blocks) <= MESSAGE_BLOCKS
    for block in blocks:
        Block.parse(block).validate_json()  # type: ignore[union-attr]
    tables = tables_of(blocks)
    assert len(tables) <= 1  # Slack: only_one_table_allowed
    for table in tables:
        assert blocks[-1] is table  # the table comes last in its message
        TableBlock(**{k: v for k, v in table.items() if k != "type"}).validate_json()
        assert len(table["rows"]) <= TABLE_ROWS
        assert all(len(row) <= TABLE_COLUMNS for row in table["rows"])
        assert len(table["column_settings"]) <= TABLE_COLUMNS
        characters = 0
        for row in table["rows"]:
            for cell in row:
                if cell["type"] == "raw_text":
                    RawTextObject(text=cell["text"]).validate_json()
                    characters += len(cell["text"])
                else:
                    RichTextBlock(elements=cell["elements"]).validate_json()
                    characters += sum(
                        len(e["text"]) for s in cell["elements"] for e in s["elements"]
                    )
        assert characters <= TABLE_CHARS


def cells(table: dict[str, Any]) -> list[list[str]]:
    """A table block's text, its heading row included."""
    return [
        [
            cell["text"]
            if cell["type"] == "raw_text"
            else "".join(e["text"] for s in cell["elements"] for e in s["elements"])
            for cell in row
        ]
        for row in table["rows"]
    ]


# -- Slack: the table block -----------------------------------------------------------------


def test_a_slack_report_table_is_a_native_table_block_with_the_pair_first() -> None:
    [(_, blocks)] = render_messages(at_risk_report())
    assert_valid_slack_message(blocks)
    [table] = tables_of(blocks)
    shown = cells(table)
    # Every one of the 27 rows fits (a code block showed 12), under a heading row in bold.
    assert len(shown) == 1 + 27
    assert shown[0] == list(AT_RISK_COLUMNS)
    heading = table["rows"][0][0]["elements"][0]["elements"][0]
    assert heading["style"] == {"bold": True}
    # The first column is what each row is about: the pair's mentee, not an id.
    assert [row[0] for row in shown[1:4]] == ["Mentee Number0", "Mentee Number1", "Mentee Number2"]
    # The long sentences wrap instead of being cut off.
    assert table["column_settings"][5] == {"is_wrapped": True}
    # Nothing is left out, so no file goes with it.
    assert report_files(at_risk_report()) == []


def test_numbers_are_right_aligned_and_an_empty_cell_is_a_dash() -> None:
    [(_, blocks)] = render_messages(mentors_report(3))
    [table] = tables_of(blocks)
    settings = table["column_settings"]
    assert settings[0] == {"align": "left"}
    assert settings[3] == {"align": "right"}  # capacity
    assert cells(table)[1][9] == "–"


def test_rows_past_the_table_block_limit_go_to_the_csv_and_the_message_says_how_many() -> None:
    report = ops_report(130)
    [(_, blocks)] = render_messages(report)
    assert_valid_slack_message(blocks)
    [table] = tables_of(blocks)
    assert len(table["rows"]) == TABLE_ROWS  # the heading row and 99 rows
    said = json.dumps(blocks)
    assert (
        "Shown here: the first 99 of 130 rows. All 130 rows are in ops.csv, attached below." in said
    )
    [(file, comment)] = report_files(report)
    assert file.filename == "ops.csv"
    assert file.content == table_csv(report.tables[0])
    assert len(list(csv.reader(io.StringIO(file.content)))) == 1 + 130
    assert comment == "Everyone, as CSV: 130 rows."


def test_a_wide_table_is_cut_to_slacks_characters_for_a_table() -> None:
    report = at_risk_report(99)
    [(_, blocks)] = render_messages(report)
    assert_valid_slack_message(blocks)
    [table] = tables_of(blocks)
    shown = len(table["rows"]) - 1
    assert 27 < shown < 99
    assert f"Shown here: the first {shown} of 99 rows." in json.dumps(blocks)
    [(file, _)] = report_files(report)
    assert file.filename == "at-risk.csv"


def test_each_table_of_a_report_is_a_message_of_its_own() -> None:
    tables = tuple(Table(f"Table {i}", ("group", "pairs"), ((f"g{i}", i),)) for i in range(3))
    report = Report("probe", "Three tables", (("Pairs", "3"),), tables, None, ("A note.",))
    messages = render_messages(report)
    assert len(messages) == 3
    for _, blocks in messages:
        assert_valid_slack_message(blocks)
        assert len(tables_of(blocks)) == 1
    assert [b["type"] for b in messages[0][1]][:3] == ["header", "section", "context"]
    assert messages[1][0] == "Three tables: Table 1"
    assert messages[1][1][0]["text"]["text"] == "*Table 1*"


def test_tables_past_the_messages_allowed_are_in_the_reports_json() -> None:
    tables = tuple(Table(f"Table {i}", ("group", "pairs"), ((f"g{i}", i),)) for i in range(8))
    report = Report("probe", "Eight tables", (), tables)
    messages = render_messages(report)
    # Five tables as messages; a DM of eight reads as a flood.
    assert len(messages) == 5
    left_out = 8 - 5
    assert (
        f"{left_out} more tables had no room here; every table is in probe.json, attached below."
        in json.dumps(messages[-1][1])
    )
    [(file, _)] = report_files(report)
    assert (file.filename, file.content) == ("probe.json", as_json(report))


def test_what_a_person_typed_in_a_cell_is_shown_as_typed() -> None:
    table = Table("Typed", ("person", "why"), (("*Ana* <!channel>", "_x_ & `y`"),))
    [(_, blocks)] = render_messages(Report("ops", "Ops", (), (table,)))
    assert cells(tables_of(blocks)[0])[1] == ["*Ana* <!channel>", "_x_ & `y`"]


# -- Teams: the card's Table ----------------------------------------------------------------


def card_tables(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in card["body"] if e["type"] == "Table"]


def test_a_card_table_shows_six_columns_and_says_the_rest_are_in_the_csv() -> None:
    report = mentors_report(45)
    card, files = fitted_card(report)
    [table] = card_tables(card)
    assert len(table["columns"]) == 6
    assert all(len(row["cells"]) == 6 for row in table["rows"])
    headings = [cell["items"][0]["text"] for cell in table["rows"][0]["cells"]]
    assert headings == list(MENTOR_COLUMNS[:6])
    said = json.dumps(card["body"], ensure_ascii=False)
    assert (
        "Shown here: the first 20 of 45 rows and 6 of 12 columns (not shown: free places, "
        "last session, readiness answers, coaching, availability, domain credibility). "
        "All 45 rows, with every column, are in mentors.csv, offered below" in said
    )
    [(kind, file)] = files
    assert (kind, file.filename, file.content) == (
        "mentors",
        "mentors.csv",
        table_csv(report.tables[0]),
    )


def test_card_columns_are_as_wide_as_their_content_so_no_word_breaks() -> None:
    card = render_card([report_reply(mentors_report(5))])
    [table] = card_tables(card)
    widths = [column["width"] for column in table["columns"]]
    headings = MENTOR_COLUMNS[:6]
    # Not all alike: the email column is the widest, a column of small numbers narrow.
    assert len(set(widths)) > 2
    assert max(widths) == widths[1]
    assert widths[1] >= len("mentor.number4@example.com")
    for heading, width in zip(headings, widths, strict=True):
        # A bold heading's longest word, with room to spare: "capacity" never "capacit y".
        assert width >= max(len(word) for word in heading.split()) + 2, heading
    assert widths[3] < widths[0] < widths[1]


def test_long_sentences_share_the_width_instead_of_taking_it_all() -> None:
    card = render_card([report_reply(at_risk_report(3))])
    [table] = card_tables(card)
    widths = [column["width"] for column in table["columns"]]
    name, status, reasons, actions = widths[0], widths[2], widths[4], widths[5]
    # Sentences get the most room, names less, a one-word status least; no column gets
    # more than a few times another's.
    assert reasons == actions == max(widths) > name > status
    assert actions < 3 * name


@pytest.mark.parametrize("kind", sorted(CATALOGUE.kinds))
async def test_every_reports_card_tables_have_short_headings_and_six_columns(
    database: Database, program: Program, kind: str
) -> None:
    async with database.session() as session:
        report = await CATALOGUE.kinds[kind].build(session, program, now=FakeClock().now())
    card = render_card([report_reply(report)])
    for table in card_tables(card):
        assert len(table["columns"]) <= 6
        for cell in table["rows"][0]["cells"]:
            assert len(cell["items"][0]["text"]) <= 20, cell


# -- no command line in chat ----------------------------------------------------------------


def test_no_chat_rendering_asks_a_person_to_run_a_command_line() -> None:
    huge = tuple(
        Table(f"Table {t}", ("person", "email", "n"), ops_report(500).tables[0].rows)
        for t in range(8)
    )
    reports = [
        ops_report(500),
        mentors_report(300),
        at_risk_report(99),
        Report("probe", "Eight big tables", (), huge),
        Report("export", "Export", (), (ops_report(40).tables[0],)),
    ]
    for report in reports:
        slack = json.dumps(render_messages(report))
        teams = json.dumps(fitted_card(report)[0])
        for rendering in (slack, teams):
            assert "--as" not in rendering and "mentorbot " not in rendering, report.kind
            assert "EMAIL" not in rendering


# -- end to end -----------------------------------------------------------------------------


@pytest.fixture
def catalogue(monkeypatch: pytest.MonkeyPatch) -> dict[str, Report]:
    """Offer test-only report kinds: each name set in the dict is built as that report."""
    offered: dict[str, Report] = {}

    def offer(name: str) -> None:
        async def build(session: AsyncSession, program: Program, *, now: datetime) -> Report:
            return offered[name]

        monkeypatch.setitem(CATALOGUE.kinds, name, Kind(name, "a test-only report", build))

    for name in ("probe", "ops"):
        offer(name)
    return offered


async def test_in_slack_a_cut_tables_csv_is_uploaded_after_its_message(
    slack: SlackHarness, catalogue: dict[str, Report]
) -> None:
    catalogue["ops"] = ops_report(130)
    await slack.dm("report ops", user=SLACK_LEAD)
    await slack.fake.wait_for("files.completeUploadExternal")
    [post] = slack.fake.posts()
    assert post.args["channel"] == LEAD_DM
    assert_valid_slack_message(post.args["blocks"])
    assert "All 130 rows are in ops.csv, attached below." in json.dumps(post.args["blocks"])
    [upload] = slack.fake.files()
    assert (upload.channel, upload.filename) == (LEAD_DM, "ops.csv")
    assert upload.data is not None
    assert upload.data.decode() == table_csv(catalogue["ops"].tables[0])
    assert upload.initial_comment == "Everyone, as CSV: 130 rows."


async def test_in_slack_a_csv_that_cannot_be_uploaded_says_what_to_type(
    slack: SlackHarness, catalogue: dict[str, Report]
) -> None:
    catalogue["ops"] = ops_report(130)
    slack.fake.fail("files.getUploadURLExternal", status=200, error="missing_scope")
    await slack.dm("report ops", user=SLACK_LEAD)
    _, notice = await slack.fake.wait_for("chat.postMessage", 2)
    assert notice["text"] == "Sorry, I couldn't attach ops.csv. Type report ops here to try again."


async def test_in_teams_a_cut_tables_csv_is_offered_and_saved_to_onedrive(
    teams: TeamsHarness, catalogue: dict[str, Report], files: FileStore
) -> None:
    catalogue["probe"] = replace(mentors_report(45), kind="probe")
    await teams.say("report probe", sender=TEAMS_LEAD)
    card = teams.last_card()
    assert "All 45 rows, with every column, are in probe.csv" in teams.last_text()
    assert len(card_tables(card)[0]["columns"]) == 6
    offer = teams.last_attachment(FILE_CONSENT_TYPE)
    assert offer["name"] == "probe.csv"
    context = offer["content"]["acceptContext"]
    assert context["again"] == "report probe"
    response = await teams.file_consent(
        "accept", context, upload_info=files.upload_info(), sender=TEAMS_LEAD
    )
    assert response.status == 200
    [(_, _, stored)] = files.puts
    assert stored.decode() == table_csv(catalogue["probe"].tables[0])


async def test_in_teams_an_expired_csv_offer_says_to_ask_for_the_report_again(
    teams: TeamsHarness, catalogue: dict[str, Report]
) -> None:
    catalogue["probe"] = replace(mentors_report(45), kind="probe")
    await teams.say("report probe", sender=TEAMS_LEAD)
    context = dict(teams.last_attachment(FILE_CONSENT_TYPE)["content"]["declineContext"])
    context["key"] = "an-offer-this-process-never-made"
    await teams.file_consent("decline", context, sender=TEAMS_LEAD)
    assert "Type report probe to get a new one." in teams.last_text()


# -- a circles program's reports ------------------------------------------------------------


@pytest.mark.parametrize("kind", ["circles", "overview", "cadence", "at-risk", "feedback"])
async def test_a_circles_programs_reports_fit_slack_and_teams_whole(
    database: Database, circle_programs: Programs, kind: str
) -> None:
    from tests.handlers.reports import circles_world

    program = circle_programs.get(circles_world.PROGRAM_ID)
    assert program is not None
    report = await circles_world.build(database, CATALOGUE.kinds[kind].build, program)
    assert any("circle" in table.title.lower() for table in report.tables) or kind == "overview"
    for _, blocks in render_messages(report):
        assert_valid_slack_message(blocks)
    card, offered = fitted_card(report)
    # The chart's PNG travels in the card too, outside the budget for text and tables.
    images = sum(len(e["url"]) for e in card["body"] if e["type"] == "Image")
    assert len(json.dumps(card, ensure_ascii=False)) - images <= CARD_BUDGET
    shown = card_tables(card)
    assert len(shown) == len(report.tables)
    for table, rendered in zip(report.tables, shown, strict=True):
        # Every column and every row on the card: nothing goes to a CSV instead.
        assert len(rendered["columns"]) == len(table.columns) <= 6
        assert len(rendered["rows"]) == 1 + len(table.rows)
        for cell in rendered["rows"][0]["cells"]:
            assert len(cell["items"][0]["text"]) <= 20, cell
    assert offered == [] and report_files(report) == []
    assert circles_world.SECRET not in json.dumps(card, ensure_ascii=False)
