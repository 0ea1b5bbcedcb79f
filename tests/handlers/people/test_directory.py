"""The people-directory CSV import: upsert by email, validate every row, report by line."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from handlers.people.directory import (
    CsvFormatError,
    ImportReport,
    Rejection,
    find_or_create_person,
    import_people,
    name_from_email,
    parse_people_csv,
)
from storage import Database, Person
from storage.queries import link_account, person_by_email
from tests.helpers import make_person

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)
HEADER = "email,name,department,title,level,manager_email,timezone,location"

ANA = "ana@example.com,Ana Lopez,Engineering,VP Engineering,9,,Europe/Madrid,Madrid"
BOB = "bob@example.com,Bob Chen,Engineering,Engineering Manager,7,ana@example.com,Asia/Tokyo,Tokyo"
CY = "cy@example.com,Cy Diaz,Engineering,Engineer,4,bob@example.com,America/New_York,NYC"


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


async def run_import(
    database: Database, text: str, *, skip_invalid: bool = False, now: datetime = NOW
) -> ImportReport:
    async with database.session() as session:
        return await import_people(session, text, now=now, skip_invalid=skip_invalid)


async def people(database: Database) -> dict[str, Person]:
    async with database.session() as session:
        return {p.email: p for p in (await session.exec(select(Person))).all()}


async def snapshot(database: Database) -> dict[str, dict[str, Any]]:
    """Every stored person, every column: for "nothing changed" checks."""
    return {email: p.model_dump() for email, p in (await people(database)).items()}


async def managers(database: Database) -> dict[str, str | None]:
    """Who manages whom, by email."""
    everyone = await people(database)
    by_id = {p.id: p.email for p in everyone.values()}
    return {
        email: (by_id[p.manager_id] if p.manager_id is not None else None)
        for email, p in everyone.items()
    }


def counts(report: ImportReport) -> tuple[int, int, int, int]:
    return report.created, report.updated, report.unchanged, len(report.rejected)


def only_rejection(report: ImportReport) -> Rejection:
    assert len(report.rejected) == 1, report.rejected
    return report.rejected[0]


async def rejected_alone(database: Database, row: str, *before: str) -> Rejection:
    """Import a file whose last row is bad; return its rejection (line = 2 + len(before))."""
    report = await run_import(database, csv_text(*before, row))
    assert not report.applied
    rejection = only_rejection(report)
    assert rejection.line == 2 + len(before)
    assert await people(database) == {}
    return rejection


# -- creating, updating, leaving alone -------------------------------------------------------


async def test_new_rows_are_created_with_every_column(database: Database) -> None:
    report = await run_import(database, csv_text(ANA, BOB, CY))

    assert counts(report) == (3, 0, 0, 0)
    assert report.applied
    bob = (await people(database))["bob@example.com"]
    assert bob.name == "Bob Chen"
    assert bob.department == "Engineering"
    assert bob.title == "Engineering Manager"
    assert bob.level == 7
    assert bob.timezone == "Asia/Tokyo"
    assert bob.location == "Tokyo"
    assert bob.attributes == {}
    assert bob.created_at == NOW
    assert bob.updated_at == NOW


async def test_empty_optional_cells_are_stored_as_null(database: Database) -> None:
    await run_import(database, csv_text("dee@example.com,Dee,,,,,,"))

    dee = (await people(database))["dee@example.com"]
    assert (dee.department, dee.title, dee.level, dee.manager_id) == (None, None, None, None)
    assert (dee.timezone, dee.location, dee.attributes) == (None, None, {})


async def test_reimporting_the_same_file_leaves_everything_unchanged(database: Database) -> None:
    text = csv_text(ANA + ",Platform", BOB + ",Platform", CY + ",", header=HEADER + ",team")
    await run_import(database, text)
    before = await snapshot(database)

    report = await run_import(database, text, now=LATER)

    assert counts(report) == (0, 0, 3, 0)
    assert report.applied
    assert await snapshot(database) == before


async def test_a_changed_row_is_updated_and_the_rest_left_alone(database: Database) -> None:
    await run_import(database, csv_text(ANA, BOB, CY))
    before = await snapshot(database)

    promoted = CY.replace("Engineer,4", "Senior Engineer,5")
    report = await run_import(database, csv_text(ANA, BOB, promoted), now=LATER)

    assert counts(report) == (0, 1, 2, 0)
    after = await snapshot(database)
    assert after["cy@example.com"]["title"] == "Senior Engineer"
    assert after["cy@example.com"]["level"] == 5
    assert after["cy@example.com"]["updated_at"] == LATER
    assert after["cy@example.com"]["created_at"] == NOW
    assert after["cy@example.com"]["id"] == before["cy@example.com"]["id"]
    assert after["ana@example.com"] == before["ana@example.com"]
    assert after["bob@example.com"] == before["bob@example.com"]


async def test_an_emptied_cell_clears_the_stored_value(database: Database) -> None:
    await run_import(database, csv_text(ANA))

    report = await run_import(database, csv_text("ana@example.com,Ana Lopez,,,,,,"), now=LATER)

    assert counts(report) == (0, 1, 0, 0)
    ana = (await people(database))["ana@example.com"]
    assert (ana.department, ana.title, ana.level, ana.timezone, ana.location) == (None,) * 5


async def test_a_new_manager_alone_counts_as_an_update(database: Database) -> None:
    dee = "dee@example.com,Dee Ray,Engineering,Director,8,,Europe/London,London"
    await run_import(database, csv_text(ANA, dee, BOB))

    moved = BOB.replace("ana@example.com", "dee@example.com")
    report = await run_import(database, csv_text(ANA, dee, moved), now=LATER)

    assert counts(report) == (0, 1, 2, 0)
    assert (await managers(database))["bob@example.com"] == "dee@example.com"
    assert (await people(database))["bob@example.com"].updated_at == LATER


async def test_an_emptied_manager_cell_removes_the_manager(database: Database) -> None:
    await run_import(database, csv_text(ANA, BOB))

    report = await run_import(database, csv_text(ANA, BOB.replace("ana@example.com", "")))

    assert counts(report) == (0, 1, 1, 0)
    assert (await managers(database))["bob@example.com"] is None


async def test_people_missing_from_the_file_are_kept(database: Database) -> None:
    await run_import(database, csv_text(ANA, BOB))

    report = await run_import(database, csv_text(CY.replace("bob@", "ana@")), now=LATER)

    assert counts(report) == (1, 0, 0, 0)
    assert set(await people(database)) == {"ana@example.com", "bob@example.com", "cy@example.com"}


async def test_a_person_already_in_the_directory_is_updated_not_duplicated(
    database: Database,
) -> None:
    existing = await make_person(database, "ana@example.com", name="A. Lopez")

    report = await run_import(database, csv_text(ANA), now=LATER)

    assert counts(report) == (0, 1, 0, 0)
    [ana] = (await people(database)).values()
    assert ana.id == existing.id
    assert ana.name == "Ana Lopez"
    assert ana.updated_at == LATER


# -- extra columns -----------------------------------------------------------------------------


async def test_extra_columns_are_kept_as_attributes(database: Database) -> None:
    header = HEADER + ",Cost Center,pronouns"
    await run_import(database, csv_text(ANA + ",CC-12,she/her", BOB + ",,he/him", header=header))

    everyone = await people(database)
    assert everyone["ana@example.com"].attributes == {"cost center": "CC-12", "pronouns": "she/her"}
    assert everyone["bob@example.com"].attributes == {"pronouns": "he/him"}


async def test_a_changed_attribute_is_an_update(database: Database) -> None:
    header = HEADER + ",pronouns"
    await run_import(database, csv_text(ANA + ",she/her", header=header))

    report = await run_import(database, csv_text(ANA + ",they/them", header=header), now=LATER)

    assert counts(report) == (0, 1, 0, 0)
    assert (await people(database))["ana@example.com"].attributes == {"pronouns": "they/them"}


async def test_columns_may_come_in_any_order_and_case(database: Database) -> None:
    header = " Name ,TIMEZONE,Email,manager_email"
    text = csv_text(
        "Ana Lopez,Europe/Madrid,ana@example.com,",
        "Bob,,bob@example.com,ana@example.com",
        header=header,
    )

    report = await run_import(database, text)

    assert counts(report) == (2, 0, 0, 0)
    ana = (await people(database))["ana@example.com"]
    assert (ana.name, ana.timezone, ana.department) == ("Ana Lopez", "Europe/Madrid", None)
    assert (await managers(database))["bob@example.com"] == "ana@example.com"


# -- managers ----------------------------------------------------------------------------------


async def test_managers_are_linked(database: Database) -> None:
    await run_import(database, csv_text(ANA, BOB, CY))

    assert await managers(database) == {
        "ana@example.com": None,
        "bob@example.com": "ana@example.com",
        "cy@example.com": "bob@example.com",
    }


async def test_a_manager_later_in_the_file_is_linked(database: Database) -> None:
    report = await run_import(database, csv_text(CY, BOB, ANA))

    assert counts(report) == (3, 0, 0, 0)
    assert (await managers(database))["cy@example.com"] == "bob@example.com"
    assert (await managers(database))["bob@example.com"] == "ana@example.com"


async def test_a_manager_from_an_earlier_import_is_linked(database: Database) -> None:
    await run_import(database, csv_text(ANA))

    report = await run_import(database, csv_text(BOB), now=LATER)

    assert counts(report) == (1, 0, 0, 0)
    assert (await managers(database))["bob@example.com"] == "ana@example.com"


async def test_a_manager_added_to_the_directory_elsewhere_is_linked(database: Database) -> None:
    ana = await make_person(database, "ana@example.com", name="Ana")

    await run_import(database, csv_text(BOB))

    assert (await people(database))["bob@example.com"].manager_id == ana.id


async def test_manager_emails_are_matched_in_any_case(database: Database) -> None:
    report = await run_import(database, csv_text(ANA, BOB.replace("ana@", "ANA@")))

    assert counts(report) == (2, 0, 0, 0)
    assert (await managers(database))["bob@example.com"] == "ana@example.com"


# -- one bad row, each kind --------------------------------------------------------------------


async def test_a_bad_email_is_rejected(database: Database) -> None:
    rejection = await rejected_alone(database, "ana(at)example.com,Ana,,,,,,")
    assert rejection.reason == "'ana(at)example.com' is not a valid email address"


async def test_an_empty_email_is_rejected(database: Database) -> None:
    rejection = await rejected_alone(database, ",Ana,,,,,,")
    assert rejection == Rejection(2, "", "email is empty")


async def test_an_empty_name_is_rejected(database: Database) -> None:
    rejection = await rejected_alone(database, "ana@example.com,  ,,,,,,")
    assert rejection == Rejection(2, "ana@example.com", "name is empty")


async def test_an_unknown_timezone_is_rejected(database: Database) -> None:
    rejection = await rejected_alone(database, ANA.replace("Europe/Madrid", "Mars/Olympus"))
    assert rejection.email == "ana@example.com"
    assert rejection.reason.startswith("unknown timezone 'Mars/Olympus'")
    assert "IANA" in rejection.reason


@pytest.mark.parametrize(
    "zone",
    ["America", "Europe/", "../etc/passwd", "Europe/" + "x" * 300],
    ids=["region", "trailing-slash", "path", "too-long"],
)
async def test_a_timezone_that_is_not_a_zone_file_is_rejected(
    database: Database, zone: str
) -> None:
    rejection = await rejected_alone(database, ANA.replace("Europe/Madrid", zone))
    assert rejection.reason.startswith(f"unknown timezone {zone!r}")


@pytest.mark.parametrize("level", ["senior", "4.5", "-1", "31", "²"])
async def test_a_level_that_is_not_a_whole_number_in_range_is_rejected(
    database: Database, level: str
) -> None:
    rejection = await rejected_alone(database, ANA.replace(",9,", f",{level},"))
    assert rejection.reason == f"level {level!r} must be a whole number from 0 to 30"


async def test_level_zero_and_thirty_are_accepted(database: Database) -> None:
    report = await run_import(
        database, csv_text(ANA.replace(",9,", ",0,"), BOB.replace(",7,", ",30,"))
    )

    assert counts(report) == (2, 0, 0, 0)
    assert (await people(database))["ana@example.com"].level == 0
    assert (await people(database))["bob@example.com"].level == 30


async def test_a_bad_manager_email_is_rejected(database: Database) -> None:
    rejection = await rejected_alone(database, BOB.replace("ana@example.com", "ana"), ANA)
    assert rejection.reason == "manager_email 'ana' is not a valid email address"


async def test_a_duplicate_email_points_at_the_first_line(database: Database) -> None:
    report = await run_import(database, csv_text(ANA, BOB, ANA.replace("Ana Lopez", "Ana L.")))

    assert not report.applied
    assert only_rejection(report) == Rejection(
        4, "ana@example.com", "duplicate email; first seen on line 2"
    )
    assert counts(report) == (2, 0, 0, 1)


async def test_emails_differing_only_in_case_are_duplicates(database: Database) -> None:
    report = await run_import(database, csv_text(ANA, ANA.replace("ana@", "ANA@")))

    assert only_rejection(report) == Rejection(
        3, "ana@example.com", "duplicate email; first seen on line 2"
    )


async def test_a_duplicate_of_a_bad_row_is_still_a_duplicate(database: Database) -> None:
    bad = ANA.replace("Europe/Madrid", "Mars/Olympus")
    report = await run_import(database, csv_text(bad, ANA))

    assert [(r.line, r.email) for r in report.rejected] == [
        (2, "ana@example.com"),
        (3, "ana@example.com"),
    ]
    assert report.rejected[1].reason == "duplicate email; first seen on line 2"


async def test_a_manager_in_neither_the_file_nor_the_directory_is_rejected(
    database: Database,
) -> None:
    rejection = await rejected_alone(database, BOB)
    assert rejection.email == "bob@example.com"
    assert rejection.reason == (
        "manager ana@example.com is not in this file or the directory; "
        "add them or leave manager_email empty"
    )


async def test_a_person_cannot_be_their_own_manager(database: Database) -> None:
    rejection = await rejected_alone(database, ANA.replace(",9,,", ",9,ANA@example.com,"))
    assert rejection == Rejection(2, "ana@example.com", "a person cannot be their own manager")


async def test_a_two_person_management_cycle_rejects_both(database: Database) -> None:
    ana = ANA.replace(",9,,", ",9,bob@example.com,")
    report = await run_import(database, csv_text(ana, BOB, CY))

    assert not report.applied
    assert report.rejected == [
        Rejection(
            2,
            "ana@example.com",
            "management cycle: ana@example.com → bob@example.com → ana@example.com",
        ),
        Rejection(
            3,
            "bob@example.com",
            "management cycle: bob@example.com → ana@example.com → bob@example.com",
        ),
        Rejection(
            4,
            "cy@example.com",
            "manager bob@example.com is on line 3, which was rejected; fix that line first",
        ),
    ]
    assert await people(database) == {}


async def test_a_three_person_management_cycle_rejects_all_three(database: Database) -> None:
    ana = ANA.replace(",9,,", ",9,cy@example.com,")
    dee = "dee@example.com,Dee,,,,cy@example.com,,"
    report = await run_import(database, csv_text(ana, BOB, CY, dee))

    assert [(r.line, r.email) for r in report.rejected] == [
        (2, "ana@example.com"),
        (3, "bob@example.com"),
        (4, "cy@example.com"),
        (5, "dee@example.com"),
    ]
    assert report.rejected[0].reason == (
        "management cycle: ana@example.com → cy@example.com → bob@example.com → ana@example.com"
    )
    for rejection in report.rejected[:3]:
        assert rejection.reason.startswith("management cycle: ")
        assert rejection.reason.count("@example.com") == 4
    # Dee reports into the cycle without being part of it: rejected because Cy is.
    assert report.rejected[3].reason == (
        "manager cy@example.com is on line 4, which was rejected; fix that line first"
    )
    assert counts(report) == (0, 0, 0, 4)


async def test_a_cycle_through_the_directory_is_rejected(database: Database) -> None:
    await run_import(database, csv_text(ANA, BOB))

    ana_under_bob = ANA.replace(",9,,", ",9,bob@example.com,")
    report = await run_import(database, csv_text(ana_under_bob), now=LATER)

    assert only_rejection(report) == Rejection(
        2,
        "ana@example.com",
        "management cycle: ana@example.com → bob@example.com → ana@example.com",
    )
    assert (await managers(database))["ana@example.com"] is None


async def test_swapping_manager_and_report_in_one_file_is_allowed(database: Database) -> None:
    await run_import(database, csv_text(ANA, BOB))

    ana_under_bob = ANA.replace(",9,,", ",9,bob@example.com,")
    bob_on_top = BOB.replace("ana@example.com", "")
    report = await run_import(database, csv_text(ana_under_bob, bob_on_top), now=LATER)

    assert counts(report) == (0, 2, 0, 0)
    assert await managers(database) == {
        "ana@example.com": "bob@example.com",
        "bob@example.com": None,
    }


async def test_a_row_with_too_many_fields_is_rejected(database: Database) -> None:
    rejection = await rejected_alone(database, "ana@example.com,Lopez, Ana,,,,,,")
    assert rejection.email == "ana@example.com"
    assert rejection.reason == "has 9 fields but the header has 8; quote values that contain commas"


async def test_a_row_with_fewer_fields_leaves_the_rest_empty(database: Database) -> None:
    report = await run_import(database, csv_text("ana@example.com,Ana Lopez,Sales"))

    assert counts(report) == (1, 0, 0, 0)
    ana = (await people(database))["ana@example.com"]
    assert (ana.department, ana.timezone) == ("Sales", None)


@pytest.mark.parametrize(
    ("column", "limit"), [("name", 200), ("department", 200), ("title", 200), ("location", 200)]
)
async def test_a_value_too_long_to_store_is_rejected(
    database: Database, column: str, limit: int
) -> None:
    cells = dict.fromkeys(HEADER.split(","), "")
    cells.update(email="ana@example.com", name="Ana")
    cells[column] = "x" * (limit + 1)
    rejection = await rejected_alone(database, ",".join(cells.values()))
    assert rejection.reason == f"{column} is longer than {limit} characters"


async def test_an_email_too_long_to_store_is_rejected(database: Database) -> None:
    email = "a" * 64 + "@" + ".".join(["b" * 60] * 5) + ".com"
    rejection = await rejected_alone(database, f"{email},Ana,,,,,,")
    assert rejection.reason == "email is longer than 320 characters"


@pytest.mark.parametrize(
    "row",
    ["ana@example.com,An\x00a,,,,,,", "ana@example.com,Ana,,,,,,Ma\x00drid,x\x00"],
    ids=["in-name", "in-location-and-extra"],
)
async def test_a_nul_character_is_rejected(database: Database, row: str) -> None:
    report = await run_import(database, csv_text(row, header=HEADER + ",extra"))

    assert only_rejection(report) == Rejection(
        2,
        "ana@example.com",
        "the line contains a NUL character; save the file as UTF-8 text (not UTF-16)",
    )


async def test_a_nul_character_in_the_header_is_a_format_error(database: Database) -> None:
    with pytest.raises(CsvFormatError, match=r"^line 1: the header contains a NUL character"):
        await run_import(database, csv_text(ANA + ",x", header=HEADER + ",ex\x00tra"))


# -- many bad rows ---------------------------------------------------------------------------


MIXED = csv_text(
    ANA,  # 2 good
    "x@example,Xavier,,,,,,",  # 3 bad email
    BOB.replace("Asia/Tokyo", "Mars/Olympus"),  # 4 bad timezone
    CY.replace("bob@", "ana@"),  # 5 good
    "dee@example.com,Dee,,,,nobody@example.com,,",  # 6 manager not found
    "eve@example.com,Eve,,,,bob@example.com,,",  # 7 manager is rejected line 4
    "fay@example.com,Fay,,,,eve@example.com,,",  # 8 manager is rejected line 7
    "gus@example.com,Gus,,,senior,,,",  # 9 bad level
)


async def test_every_bad_row_is_reported_by_line(database: Database) -> None:
    report = await run_import(database, MIXED)

    assert [(r.line, r.email) for r in report.rejected] == [
        (3, "x@example"),
        (4, "bob@example.com"),
        (6, "dee@example.com"),
        (7, "eve@example.com"),
        (8, "fay@example.com"),
        (9, "gus@example.com"),
    ]
    reasons = {r.line: r.reason for r in report.rejected}
    assert "not a valid email address" in reasons[3]
    assert "unknown timezone 'Mars/Olympus'" in reasons[4]
    assert "manager nobody@example.com is not in this file or the directory" in reasons[6]
    assert reasons[7] == (
        "manager bob@example.com is on line 4, which was rejected; fix that line first"
    )
    assert reasons[8] == (
        "manager eve@example.com is on line 7, which was rejected; fix that line first"
    )
    assert "level 'senior'" in reasons[9]


async def test_bad_rows_stop_the_whole_import(database: Database) -> None:
    await make_person(database, "ana@example.com", name="Old Name", timezone="UTC")
    before = await snapshot(database)

    report = await run_import(database, MIXED, now=LATER)

    assert not report.applied
    # What would have happened: Ana updated, Cy created.
    assert counts(report) == (1, 1, 0, 6)
    assert await snapshot(database) == before


async def test_skip_invalid_imports_the_good_rows(database: Database) -> None:
    await make_person(database, "ana@example.com", name="Old Name")

    report = await run_import(database, MIXED, skip_invalid=True, now=LATER)

    assert report.applied
    assert counts(report) == (1, 1, 0, 6)
    assert [r.line for r in report.rejected] == [3, 4, 6, 7, 8, 9]
    assert await managers(database) == {
        "ana@example.com": None,
        "cy@example.com": "ana@example.com",
    }
    assert (await people(database))["ana@example.com"].name == "Ana Lopez"


async def test_skip_invalid_rejects_reports_of_a_cycle(database: Database) -> None:
    ana = ANA.replace(",9,,", ",9,bob@example.com,")
    dee = "dee@example.com,Dee,,,,ana@example.com,,"
    fay = "fay@example.com,Fay,,,,,,"
    report = await run_import(database, csv_text(ana, BOB, dee, fay), skip_invalid=True)

    assert [(r.line, r.email) for r in report.rejected] == [
        (2, "ana@example.com"),
        (3, "bob@example.com"),
        (4, "dee@example.com"),
    ]
    assert report.rejected[2].reason == (
        "manager ana@example.com is on line 2, which was rejected; fix that line first"
    )
    assert set(await people(database)) == {"fay@example.com"}


async def test_skip_invalid_keeps_a_directory_manager_whose_row_is_bad(database: Database) -> None:
    await run_import(database, csv_text(ANA))

    bad_ana = ANA.replace("Europe/Madrid", "Mars/Olympus")
    report = await run_import(database, csv_text(bad_ana, BOB), skip_invalid=True, now=LATER)

    assert counts(report) == (1, 0, 0, 1)
    assert (await managers(database))["bob@example.com"] == "ana@example.com"
    assert (await people(database))["ana@example.com"].timezone == "Europe/Madrid"


async def test_a_good_row_is_never_dropped_because_a_later_row_shares_its_email(
    database: Database,
) -> None:
    bad_ana_again = ANA.replace("Europe/Madrid", "Mars/Olympus")
    dee = "dee@example.com,Dee,,,,nobody@example.com,,"
    report = await run_import(database, csv_text(ANA, BOB, bad_ana_again, dee), skip_invalid=True)

    # Line 2 (Ana) and line 3 (Bob, managed by Ana) are good; 4 and 5 are not.
    assert [r.line for r in report.rejected] == [4, 5]
    assert counts(report) == (2, 0, 0, 2)
    assert await managers(database) == {
        "ana@example.com": None,
        "bob@example.com": "ana@example.com",
    }


async def test_every_row_is_counted_exactly_once(database: Database) -> None:
    report = await run_import(database, MIXED, skip_invalid=True)

    data_rows = len(MIXED.splitlines()) - 1
    assert report.created + report.updated + report.unchanged + len(report.rejected) == data_rows


async def test_skip_invalid_with_only_good_rows_is_a_normal_import(database: Database) -> None:
    report = await run_import(database, csv_text(ANA, BOB), skip_invalid=True)

    assert counts(report) == (2, 0, 0, 0)
    assert report.applied


# -- the file as a whole ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "\ufeff"])
async def test_an_empty_file_is_a_format_error(database: Database, text: str) -> None:
    with pytest.raises(CsvFormatError, match=r"^the file is empty; the first line must be"):
        await run_import(database, text)
    assert await people(database) == {}


async def test_a_header_without_an_email_column_is_a_format_error(database: Database) -> None:
    text = csv_text("Ana Lopez,Sales", header="name,department")
    with pytest.raises(CsvFormatError) as caught:
        await run_import(database, text)
    assert str(caught.value) == (
        "line 1: the header has no email column; expected "
        "email,name,department,title,level,manager_email,timezone,location "
        "(other columns are kept as attributes)"
    )


async def test_a_header_without_email_or_name_names_both(database: Database) -> None:
    with pytest.raises(CsvFormatError, match=r"^line 1: the header has no email or name column"):
        await run_import(database, csv_text("ana@example.com", header="mail"))


async def test_a_file_that_starts_with_a_data_row_is_a_format_error(database: Database) -> None:
    with pytest.raises(CsvFormatError, match="the header has no email or name column"):
        await run_import(database, "\n".join([ANA, BOB]))


async def test_a_repeated_column_is_a_format_error(database: Database) -> None:
    with pytest.raises(CsvFormatError, match=r"^line 1: the column 'name' appears twice"):
        await run_import(database, csv_text(ANA + ",x", header=HEADER + ",Name"))


async def test_a_header_only_file_imports_nothing(database: Database) -> None:
    report = await run_import(database, HEADER + "\n")

    assert counts(report) == (0, 0, 0, 0)
    assert report.applied


async def test_a_utf8_bom_and_blank_lines_are_handled(database: Database) -> None:
    text = "\ufeff" + HEADER + "\r\n" + ANA + "\r\n\r\n" + "   , ,\r\n" + BOB + "\r\n\r\n"
    report = await run_import(database, text)

    assert counts(report) == (2, 0, 0, 0)
    assert set(await people(database)) == {"ana@example.com", "bob@example.com"}


async def test_line_numbers_count_blank_lines_and_multiline_cells(database: Database) -> None:
    text = (
        HEADER + "\n"
        "\n"  # line 2
        'ana@example.com,Ana Lopez,"Research\nand Development",,,,,\n'  # lines 3-4
        "\n"  # line 5
        "bob@example.com,Bob,,,,,Mars/Olympus,\n"  # line 6
    )
    report = await run_import(database, text)

    assert only_rejection(report).line == 6
    assert counts(report) == (1, 0, 0, 1)


async def test_emails_are_stored_in_lower_case(database: Database) -> None:
    await run_import(database, csv_text(ANA.replace("ana@example.com", " Ana@Example.COM ")))

    assert set(await people(database)) == {"ana@example.com"}
    report = await run_import(database, csv_text(ANA), now=LATER)
    assert counts(report) == (0, 0, 1, 0)


def test_parse_reports_rows_without_touching_the_database() -> None:
    rows, rejected = parse_people_csv(csv_text(ANA, "bad,Bad,,,,,,"))

    assert [(r.line, r.email, r.level, r.timezone) for r in rows] == [
        (2, "ana@example.com", 9, "Europe/Madrid")
    ]
    assert rejected == [Rejection(3, "bad", "'bad' is not a valid email address")]


# -- finding people by email -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "name"),
    [
        ("ana.lopez@example.com", "Ana Lopez"),
        ("sam_okafor-2@example.com", "Sam Okafor"),
        ("j+work@example.com", "J Work"),
        ("1234@example.com", "1234"),
    ],
)
def test_name_from_email(email: str, name: str) -> None:
    assert name_from_email(email) == name


async def test_find_or_create_person_creates_once(database: Database) -> None:
    async with database.session() as session:
        first, created = await find_or_create_person(
            session, email=" Ana.Lopez@Example.com ", now=NOW, timezone="Europe/Madrid"
        )
    async with database.session() as session:
        again, created_again = await find_or_create_person(
            session, email="ana.lopez@example.com", now=LATER, name="Someone Else"
        )

    assert (created, created_again) == (True, False)
    assert again.id == first.id
    assert (again.email, again.name, again.timezone) == (
        "ana.lopez@example.com",
        "Ana Lopez",
        "Europe/Madrid",
    )
    assert len(await people(database)) == 1


@pytest.mark.parametrize("zone", ["Mars/Olympus", "America"])
async def test_find_or_create_person_drops_an_unknown_timezone(
    database: Database, zone: str
) -> None:
    async with database.session() as session:
        person, _ = await find_or_create_person(
            session, email="ana@example.com", now=NOW, name="Ana", timezone=zone
        )
    assert (person.name, person.timezone) == ("Ana", None)


async def test_two_first_requests_from_one_new_person_make_one_person_and_one_link(
    database: Database,
) -> None:
    """A DM and a click from a new Slack user arrive together: both get the same person."""
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    arrived = asyncio.Event()
    waiting = 0

    async def first_contact() -> tuple[int, int]:
        nonlocal waiting
        async with database.session() as session:
            # Both look before either writes, as two requests on two connections do.
            assert await person_by_email(session, "new@x.com") is None
            waiting += 1
            if waiting == 2:
                arrived.set()
            await asyncio.wait_for(arrived.wait(), 5)
            person, _ = await find_or_create_person(session, email="New@x.com", now=now)
            assert person.id is not None
            account = await link_account(
                session, platform="slack", external_id="T1/U9", person_id=person.id, now=now
            )
            assert account.id is not None
            return person.id, account.id

    if database.is_sqlite:
        # One writer at a time: the second request waits for the first, then finds it.
        results = [await first_contact_alone(database, now) for _ in range(2)]
    else:
        results = list(await asyncio.gather(first_contact(), first_contact()))
    assert results[0] == results[1]
    async with database.session() as session:
        people = (await session.exec(select(Person))).all()
    assert [p.email for p in people] == ["new@x.com"]


async def first_contact_alone(database: Database, now: datetime) -> tuple[int, int]:
    async with database.session() as session:
        person, _ = await find_or_create_person(session, email="new@x.com", now=now)
        assert person.id is not None
        account = await link_account(
            session, platform="slack", external_id="T1/U9", person_id=person.id, now=now
        )
        assert account.id is not None
        return person.id, account.id
