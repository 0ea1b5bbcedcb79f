"""The people directory: CSV import and finding people by email.

A CSV import validates every row first (email, timezone, level, duplicates, managers,
management cycles) and reports each bad row with its line number. Nothing is written when
any row is bad, unless the caller asks to skip the invalid rows.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.messages import plural
from handlers.core.refs import stored_number
from storage import Person
from storage.queries import person_by_email

COLUMNS = ("email", "name", "department", "title", "level", "manager_email", "timezone", "location")
REQUIRED_COLUMNS = ("email", "name")
EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"
)
MAX_LEVEL = 30
NUL = "contains a NUL character; save the file as UTF-8 text (not UTF-16)"
#: The longest value each text column stores (see storage.models.Person).
MAX_LENGTHS = {"email": 320, "name": 200, "department": 200, "title": 200, "location": 200}


def is_email(text: str) -> bool:
    """True when the text looks like one email address."""
    return bool(EMAIL.match(text))


def check_timezone(name: str) -> str | None:
    """None when ``name`` is an IANA timezone, else the sentence that says what is wrong."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return (
            f"unknown timezone {name!r}; use an IANA name such as Europe/Berlin, "
            "America/New_York or Asia/Kolkata"
        )
    return None


@dataclass(frozen=True)
class Rejection:
    """A CSV row that cannot be imported, and why."""

    line: int
    email: str
    reason: str


@dataclass
class ImportReport:
    """What an import did (or, when ``applied`` is false, would have done)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    applied: bool = False

    def summary(self) -> str:
        """One line of counts that says only what is true of this import.

        When bad rows stopped the import nothing was created, so the counts are said as
        what the rows *would* have done rather than as "created 2".
        """
        rejected = len(self.rejected)
        if self.applied:
            return (
                f"created {self.created}, updated {self.updated}, "
                f"unchanged {self.unchanged}, rejected {rejected}"
            )
        rows = f"{plural(rejected, 'row')} rejected"
        would = [
            f"{count} would have been {verb}"
            for count, verb in (
                (self.created, "created"),
                (self.updated, "updated"),
                (self.unchanged, "left unchanged"),
            )
            if count
        ]
        return f"nothing imported: {', '.join([rows, *would])}"


@dataclass
class _Row:
    line: int
    email: str
    name: str
    department: str | None
    title: str | None
    level: int | None
    manager_email: str | None
    timezone: str | None
    location: str | None
    attributes: dict[str, str]

    def profile(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "department": self.department,
            "title": self.title,
            "level": self.level,
            "timezone": self.timezone,
            "location": self.location,
            "attributes": self.attributes,
        }


class CsvFormatError(Exception):
    """The file as a whole cannot be read as a people CSV; the message says why."""


def parse_people_csv(text: str) -> tuple[list[_Row], list[Rejection]]:
    """Read and check each row on its own (cross-row checks come later).

    Raises:
        CsvFormatError: no header, or the header lacks email or name.
    """
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise CsvFormatError(
            f"the file is empty; the first line must be the header ({','.join(COLUMNS)})"
        ) from None
    except csv.Error as exc:
        raise CsvFormatError(f"line 1: cannot read the header ({exc})") from None
    if any("\x00" in h for h in header):
        raise CsvFormatError(f"line 1: the header {NUL}")
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise CsvFormatError(
            f"line 1: the header has no {' or '.join(missing)} column; expected "
            f"{','.join(COLUMNS)} (other columns are kept as attributes)"
        )
    repeated = sorted({n for n in names if names.count(n) > 1 and n})
    if repeated:
        raise CsvFormatError(f"line 1: the column {repeated[0]!r} appears twice in the header")
    rows: list[_Row] = []
    rejected: list[Rejection] = []
    line = 1
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            rejected.append(Rejection(start, "", f"cannot read this line ({exc})"))
            continue
        line = start
        if not any(c.strip() for c in cells):
            continue
        record = {n: (cells[i].strip() if i < len(cells) else "") for i, n in enumerate(names) if n}
        email = record.get("email", "").lower()
        if len(cells) > len(names):
            rejected.append(
                Rejection(
                    line,
                    email,
                    f"has {len(cells)} fields but the header has "
                    f"{len(names)}; quote values that contain commas",
                )
            )
            continue
        if any("\x00" in c for c in cells):
            rejected.append(Rejection(line, email, f"the line {NUL}"))
            continue
        problem = _check_row(record, email)
        if problem:
            rejected.append(Rejection(line, email, problem))
            continue
        rows.append(
            _Row(
                line=line,
                email=email,
                name=record["name"],
                department=record.get("department") or None,
                title=record.get("title") or None,
                level=int(record["level"]) if record.get("level") else None,
                manager_email=(record.get("manager_email") or "").lower() or None,
                timezone=record.get("timezone") or None,
                location=record.get("location") or None,
                attributes={k: v for k, v in record.items() if k not in COLUMNS and v},
            )
        )
    return rows, rejected


def _check_row(record: dict[str, str], email: str) -> str | None:
    if not email:
        return "email is empty"
    if not is_email(email):
        return f"{record['email']!r} is not a valid email address"
    if not record.get("name"):
        return "name is empty"
    for column, limit in MAX_LENGTHS.items():
        if len(record.get(column, "")) > limit:
            return f"{column} is longer than {limit} characters"
    level = record.get("level", "")
    number = stored_number(level) if level.isascii() and level.isdigit() else None
    if level and not (number is not None and number <= MAX_LEVEL):
        return f"level {level!r} must be a whole number from 0 to {MAX_LEVEL}"
    manager = record.get("manager_email", "")
    if manager and not is_email(manager):
        return f"manager_email {manager!r} is not a valid email address"
    if manager and manager.lower() == email:
        return "a person cannot be their own manager"
    timezone = record.get("timezone", "")
    if timezone:
        return check_timezone(timezone)
    return None


async def import_people(
    session: AsyncSession,
    text: str,
    *,
    now: datetime,
    skip_invalid: bool = False,
) -> ImportReport:
    """Validate a people CSV, then upsert it by email.

    Args:
        session: Writes happen in this session's transaction.
        text: The CSV file's text.
        now: The time stamped on created and updated people.
        skip_invalid: Import the good rows even when some are bad.

    Returns:
        The counts, and every rejected row. ``applied`` is false when bad rows stopped
        the import.

    Raises:
        CsvFormatError: the file as a whole is unreadable.
    """
    rows, rejected = parse_people_csv(text)
    existing = {p.email: p for p in (await session.exec(select(Person))).all()}
    by_id = {p.id: p for p in existing.values()}
    rows, more = _cross_check(rows, existing, by_id, rejected)
    rejected.extend(more)
    rejected.sort(key=lambda r: r.line)
    report = ImportReport(rejected=rejected)
    if rejected and not skip_invalid:
        for row in rows:
            _count(report, existing.get(row.email), row, by_id)
        return report

    people: dict[str, Person] = dict(existing)
    changed: list[tuple[Person, _Row]] = []
    for row in rows:
        person = existing.get(row.email)
        outcome = _count(report, person, row, by_id)
        if person is None:
            person = Person(email=row.email, created_at=now, updated_at=now, **row.profile())
            people[row.email] = person
        elif outcome == "updated":
            for key, value in row.profile().items():
                setattr(person, key, value)
            person.updated_at = now
        if outcome != "unchanged":
            changed.append((person, row))
            session.add(person)
    await session.flush()
    for person, row in changed:
        manager = people.get(row.manager_email) if row.manager_email else None
        person.manager_id = manager.id if manager else None
        session.add(person)
    await session.flush()
    report.applied = True
    return report


def _count(
    report: ImportReport, person: Person | None, row: _Row, by_id: dict[int | None, Person]
) -> str:
    if person is None:
        report.created += 1
        return "created"
    same = all(getattr(person, k) == v for k, v in row.profile().items())
    manager = by_id.get(person.manager_id) if person.manager_id is not None else None
    if same and (manager.email if manager else None) == row.manager_email:
        report.unchanged += 1
        return "unchanged"
    report.updated += 1
    return "updated"


def _cross_check(
    rows: list[_Row],
    existing: dict[str, Person],
    by_id: dict[int | None, Person],
    already_rejected: list[Rejection],
) -> tuple[list[_Row], list[Rejection]]:
    """Duplicates, unknown managers and management cycles, across the file and directory."""
    rejected: list[Rejection] = []
    first_line: dict[str, int] = {}
    # Rejected rows count too: a good row after a bad one with its email is a duplicate.
    lines = [(r.line, r.email) for r in rows] + [(r.line, r.email) for r in already_rejected]
    for line, email in sorted(lines):
        if email:
            first_line.setdefault(email, line)
    unique: list[_Row] = []
    for row in rows:
        if first_line[row.email] != row.line:
            rejected.append(
                Rejection(
                    row.line,
                    row.email,
                    f"duplicate email; first seen on line {first_line[row.email]}",
                )
            )
        else:
            unique.append(row)

    # Who manages whom once this file is applied: the directory, overlaid by the file.
    manager_of: dict[str, str | None] = {}
    for person in existing.values():
        manager = by_id.get(person.manager_id) if person.manager_id is not None else None
        manager_of[person.email] = manager.email if manager else None
    good = list(unique)
    dropped_at = {r.email: first_line[r.email] for r in already_rejected if r.email}
    for row in unique:
        dropped_at.pop(row.email, None)
    while True:
        emails = {r.email for r in good}
        graph = dict(manager_of)
        graph.update({r.email: r.manager_email for r in good})
        bad: list[Rejection] = []
        for row in good:
            manager_email = row.manager_email
            if manager_email and manager_email in dropped_at and manager_email not in existing:
                bad.append(
                    Rejection(
                        row.line,
                        row.email,
                        f"manager {manager_email} is on line {dropped_at[manager_email]}, "
                        "which was rejected; fix that line first",
                    )
                )
                continue
            if manager_email and manager_email not in emails and manager_email not in existing:
                bad.append(
                    Rejection(
                        row.line,
                        row.email,
                        f"manager {manager_email} is not in "
                        "this file or the directory; add them or leave manager_email empty",
                    )
                )
                continue
            cycle = _cycle_from(row.email, graph)
            if cycle:
                bad.append(Rejection(row.line, row.email, "management cycle: " + " → ".join(cycle)))
        if not bad:
            break
        rejected.extend(bad)
        dropped_at.update({r.email: r.line for r in bad})
        good = [r for r in good if r.email not in dropped_at]
    return good, rejected


def _cycle_from(email: str, graph: dict[str, str | None]) -> list[str] | None:
    path = [email]
    seen = {email}
    current = graph.get(email)
    while current is not None:
        if current == email:
            return [*path, email]
        if current in seen:
            return None  # a cycle further up that does not pass through this person
        path.append(current)
        seen.add(current)
        current = graph.get(current)
    return None


async def people_called(session: AsyncSession, typed: str, *, limit: int = 6) -> list[Person]:
    """The directory people someone means by ``typed``: an email, a full name or a first name.

    An email finds its person only. A name is compared without regard to case: the full
    name first, and when nobody has it, the first name ("Lee" finds Lee Park).

    Returns:
        Up to ``limit`` people, by name: none when nobody matches, several when the name is
        ambiguous.
    """
    typed = " ".join(typed.split())
    if is_email(typed):
        person = await person_by_email(session, typed)
        return [person] if person is not None else []
    lowered = typed.lower()
    name = sa.func.lower(Person.name)
    for matches in (name == lowered, name.startswith(f"{lowered} ", autoescape=True)):
        found = await session.exec(
            select(Person).where(matches).order_by(Person.name, Person.id).limit(limit)  # type: ignore[arg-type]
        )
        people = list(found.all())
        if people:
            return people
    return []


def name_from_email(email: str) -> str:
    """A readable name guessed from an email's local part ("ana.lopez" -> "Ana Lopez")."""
    local = email.split("@", 1)[0]
    words = [w for w in re.split(r"[._+-]+", local) if w and not w.isdigit()]
    return " ".join(w.capitalize() for w in words) or local


async def find_or_create_person(
    session: AsyncSession,
    *,
    email: str,
    now: datetime,
    name: str | None = None,
    timezone: str | None = None,
) -> tuple[Person, bool]:
    """The directory person with this email, created from what is known when missing.

    Returns:
        The person and whether they were just created.
    """
    email = email.strip().lower()
    person = await person_by_email(session, email)
    if person is not None:
        return person, False
    person = Person(
        email=email,
        name=name or name_from_email(email),
        timezone=timezone if timezone and check_timezone(timezone) is None else None,
        attributes={},
        created_at=now,
        updated_at=now,
    )
    try:
        # A savepoint: two first requests from one new person (a DM and a click) may
        # race to create them; the loser reads the winner's row instead of failing.
        async with session.begin_nested():
            session.add(person)
            await session.flush()
    except IntegrityError:
        existing = await person_by_email(session, email)
        if existing is None:
            raise
        return existing, False
    return person, True
