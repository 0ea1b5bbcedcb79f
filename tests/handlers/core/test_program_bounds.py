"""Every number in the program file has bounds, refused where it is written.

A value past them would pass ``check-config`` and then fail at run time: days that no
date can be that far from today (``OverflowError`` in every tick), a number no INTEGER
column holds (PostgreSQL's is 32 bits), a weight that makes every fit "not a number".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ProgramFileError, parse_programs
from handlers.core.program import PrivacySettings
from tests.bot.cli_helpers import mentorbot
from tests.conftest import ROOT, SEVERAL_PROGRAMS

ONE = (ROOT / "tests" / "fixtures" / "one_program.yaml").read_text()
SEVERAL = SEVERAL_PROGRAMS.read_text()


def _replaced(text: str, old: str, new: str) -> tuple[str, int]:
    """The text with ``old`` (found once) replaced, and the line it is on."""
    assert text.count(old) >= 1, old
    line = text[: text.index(old)].count("\n") + 1
    return text.replace(old, new, 1), line


def _problems(text: str) -> list[str]:
    with pytest.raises(ProgramFileError) as raised:
        parse_programs(text, source="app.yaml")
    return raised.value.lines


# -- privacy.retain_notes_days ---------------------------------------------------------------


def _notes(days: str) -> tuple[str, int]:
    return _replaced(ONE, "  retain_notes_days: 365\n", f"  retain_notes_days: {days}\n")


def test_notes_may_be_kept_from_a_day_to_ten_years_or_for_good() -> None:
    for days, kept in (("1", 1), ("3650", 3650), ("null", None)):
        text, _ = _notes(days)
        assert parse_programs(text, source="app.yaml").privacy.retain_notes_days == kept


@pytest.mark.parametrize("days", ["0", "-5", "3651", "100000000"])
def test_a_notes_retention_outside_a_day_to_ten_years_is_refused_where_it_is(days: str) -> None:
    text, line = _notes(days)
    assert _problems(text) == [
        f"app.yaml:{line}: privacy.retain_notes_days: keep notes between 1 and 3650 days; "
        f"leave it out, or write null, to keep them as long as the pairing's records (got {days})"
    ]


def test_a_notes_retention_past_ten_years_is_refused_in_code_too() -> None:
    with pytest.raises(ValueError, match="keep notes between 1 and 3650 days"):
        PrivacySettings(retain_notes_days=100_000_000)


# -- questions' min and max ------------------------------------------------------------------


@pytest.mark.parametrize("bound", ["min", "max"])
@pytest.mark.parametrize("value", ["2147483648", "-2147483649", "100000000000"])
def test_a_question_bound_no_stored_answer_could_reach_is_refused_where_it_is(
    bound: str, value: str
) -> None:
    old = "      min: 1\n      max: 20\n"
    new = old.replace(f"{bound}: {'1' if bound == 'min' else '20'}", f"{bound}: {value}")
    text, line = _replaced(ONE, old, new)
    line += 1 if bound == "max" else 0
    [problem] = _problems(text)
    assert problem.startswith(f"app.yaml:{line}: intake.mentee[")
    assert problem.endswith(
        f".{bound}: answers are stored as whole numbers from -2,147,483,648 to "
        f"2,147,483,647; keep {bound} within them (got {value})"
    )


def test_a_question_bound_at_the_edge_of_what_is_stored_is_accepted() -> None:
    old = "      min: 1\n      max: 20\n"
    text, _ = _replaced(ONE, old, "      min: 1\n      max: 2147483647\n")
    assert parse_programs(text, source="app.yaml")


# -- matching weights ------------------------------------------------------------------------


@pytest.mark.parametrize("value", [".inf", "1e308", "101", "-0.1", ".nan"])
def test_a_weight_outside_0_to_100_is_refused_where_it_is(value: str) -> None:
    text, line = _replaced(ONE, "    seniority: 0.10\n", f"    seniority: {value}\n")
    [problem] = _problems(text)
    assert problem.startswith(
        f"app.yaml:{line}: matching.weights.seniority: must be a weight from 0 to 100; only "
        "each weight's share of their total counts (0.35 or 35, with the others alike) (got "
    )


def test_weights_written_as_percentages_are_accepted() -> None:
    text, _ = _replaced(ONE, "    seniority: 0.10\n", "    seniority: 100\n")
    assert parse_programs(text, source="app.yaml").first.matching.weights.seniority == 100


# -- cohort dates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "old", "new"),
    [
        ("starts", "starts: 2027-02-01", "starts: 9999-12-01"),
        ("enrol_until", "enrol_until: 2027-01-29", "enrol_until: 3000-01-01"),
        ("enrol_from", "enrol_from: 2027-01-04", "enrol_from: 0001-01-01"),
    ],
)
def test_a_cohort_date_too_far_off_to_count_days_from_is_refused_where_it_is(
    field: str, old: str, new: str
) -> None:
    text, line = _replaced(SEVERAL, old, new)
    found = [p for p in _problems(text) if "too far" in p]
    assert found == [
        f"app.yaml:{line}: programs[3].cohort.{field}: {new.split(': ')[1]} is too far off; "
        "cohort dates run from 2000-01-01 to 2999-12-31"
    ]


# -- check-config ----------------------------------------------------------------------------


def test_check_config_refuses_a_notes_retention_no_tick_could_count_back(tmp_path: Path) -> None:
    text, line = _notes("100000000")
    path = tmp_path / "app.yaml"
    path.write_text(text)
    result = mentorbot("check-config", str(path))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        f"{path}:{line}: privacy.retain_notes_days: keep notes between 1 and 3650 days; "
        "leave it out, or write null, to keep them as long as the pairing's records "
        "(got 100000000)"
    ]
