"""People CSV: random rows and bytes give a clear CsvFormatError or a report, never a crash."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from handlers.people.directory import COLUMNS, CsvFormatError, import_people, parse_people_csv
from storage import Database, Person

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

FAST = settings(max_examples=150, deadline=None)
#: The database fixture lives for the whole test; every example checks its own before/after.
STORED = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

EMAILS = ["ana@example.com", "bob@example.com", "Cy@Example.com", "not-an-email", "", "a@b"]
cells = st.one_of(
    st.sampled_from(
        [
            *EMAILS,
            "Ana Lopez",
            "3",
            "-1",
            "99999999999999999999999",
            "٣",
            "Europe/Berlin",
            "Mars/Olympus",
            "../../etc/passwd",
            "x" * 400,
            "a,b",
            '"',
            "\x00",
        ]
    ),
    st.text(max_size=30),
)
#: Mostly a usable header (email and name among the known columns), sometimes anything.
usable_headers = st.lists(
    st.sampled_from([*COLUMNS[2:], "pronouns", "EMAIL", " team "]), unique=True, max_size=8
).flatmap(lambda rest: st.permutations(["email", "name", *rest]))
headers = st.one_of(
    usable_headers,
    usable_headers,
    st.lists(st.one_of(st.sampled_from([*COLUMNS, "name"]), st.text(max_size=10)), max_size=10),
)
plausible = st.sampled_from(
    [
        *EMAILS,
        "dee@example.com",
        "Ana Lopez",
        "Engineering",
        "4",
        "Asia/Tokyo",
        "",
    ]
)
tables = st.tuples(
    headers, st.lists(st.lists(st.one_of(plausible, plausible, cells), max_size=11), max_size=8)
)


def as_csv(header: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def parse_or_reason(text: str) -> str | None:
    """None when the text parses (rows or rejections), else the CsvFormatError message."""
    try:
        parse_people_csv(text)
    except CsvFormatError as exc:
        return str(exc)
    return None


@FAST
@given(st.binary(max_size=400))
def test_random_bytes_parse_or_say_why(raw: bytes) -> None:
    reason = parse_or_reason(raw.decode("utf-8", errors="replace"))
    assert reason is None or (reason.strip() and "Traceback" not in reason)


@FAST
@given(st.text(max_size=400))
def test_random_text_parses_or_says_why(text: str) -> None:
    reason = parse_or_reason(text)
    assert reason is None or reason.strip()


@FAST
@given(tables)
def test_random_rows_are_rows_or_located_rejections(
    table: tuple[list[str], list[list[str]]],
) -> None:
    try:
        rows, rejected = parse_people_csv(as_csv(*table))
    except CsvFormatError as exc:
        reason = str(exc)
    else:
        reason = None
    if reason is not None:
        assert reason.strip()
        return
    for rejection in rejected:
        assert rejection.line >= 2 and rejection.reason.strip()
    for row in rows:
        assert row.email and row.name


async def snapshot(database: Database) -> dict[str, dict[str, Any]]:
    async with database.session() as session:
        people = (await session.exec(select(Person))).all()
        return {p.email: p.model_dump() for p in people}


#: Each example imports at its own instant, so what it changed is what carries that instant.
_instants = iter(range(1, 10**6))


@STORED
@given(tables, st.booleans())
async def test_an_import_stores_only_accepted_rows(
    database: Database, table: tuple[list[str], list[list[str]]], skip_invalid: bool
) -> None:
    now = NOW + timedelta(minutes=next(_instants))
    text = as_csv(*table)
    before = await snapshot(database)
    try:
        async with database.session() as session:
            report = await import_people(session, text, now=now, skip_invalid=skip_invalid)
    except CsvFormatError as exc:
        reason = str(exc)
    else:
        reason = None
    if reason is not None:
        assert reason.strip()
        assert await snapshot(database) == before
        return
    after = await snapshot(database)
    if not report.applied:
        assert report.rejected
        assert after == before
        return
    event("applied")
    assert len(after) == len(before) + report.created
    changed = {email for email, person in after.items() if person["updated_at"] == now}
    assert len(changed) == report.created + report.updated
    lines_of = Counter(r.email for r in parse_people_csv(text)[0])
    for rejection in report.rejected:
        if rejection.email and lines_of[rejection.email] <= 1:
            assert rejection.email not in changed, rejection
