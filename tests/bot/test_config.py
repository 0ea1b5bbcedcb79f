"""The program file: the shipped sample is valid, and every problem is located and explained."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ProgramFileError, load_programs, parse_programs
from handlers.core.program import Meaning

ROOT = Path(__file__).resolve().parents[2]
#: The checks of a file in the first format (one program: section); tests/bot/
#: test_program_file.py checks the several-programs format of the shipped app.yaml.
SAMPLE = (ROOT / "tests" / "fixtures" / "one_program.yaml").read_text()


def problems(text: str) -> list[str]:
    with pytest.raises(ProgramFileError) as raised:
        parse_programs(text, source="app.yaml")
    return raised.value.lines


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(needle)


def test_the_shipped_program_is_complete() -> None:
    program = load_programs(ROOT / "app.yaml").first
    assert len(program.competencies) >= 6
    assert {c.pillar for c in program.competencies} >= {"Set direction", "Grow people"}
    mentee_meanings = {q.meaning for q in program.intake.mentee}
    assert {
        Meaning.GOALS,
        Meaning.COMPETENCIES,
        Meaning.LEARNING_STYLE,
        Meaning.FORMATS,
        Meaning.HOURS_PER_MONTH,
    } <= mentee_meanings
    assert {Meaning.COMPETENCIES, Meaning.CAPACITY, Meaning.FORMATS, Meaning.BIO} <= {
        q.meaning for q in program.intake.mentor
    }
    assert program.cadence.cycle_days == 90
    assert program.cadence.checkin_every_days == 14
    assert program.cadence.calibration_day == 30
    assert program.leads


def test_an_option_that_is_not_a_competency_is_named_with_the_known_ones() -> None:
    text = SAMPLE.replace(
        "      options: [One-on-one, Group, Shadowing, Project-based]\n      min: 1\n      meaning: formats\n    - id: hours_per_month\n      prompt: How many hours a month can you give to mentoring?",
        "      options_from: competencies\n      options: [Coaching, Budgeting]\n      min: 1\n    - id: hours_per_month\n      prompt: How many hours a month can you give to mentoring?",
    )
    [message] = problems(text)
    assert message.startswith(f"app.yaml:{line_of(text, 'options: [Coaching, Budgeting]')}: ")
    assert "intake.mentee[3].options[1]: 'Budgeting' is not a competency; known: " in message
    assert "Strategic judgment" in message and "Coaching" in message


def test_a_misspelt_setting_suggests_the_right_one() -> None:
    text = SAMPLE.replace("      required: false", "      requird: false", 1)
    [message] = problems(text)
    assert message == (
        f"app.yaml:{line_of(text, 'requird')}: intake.mentee[5].requird: "
        "unknown setting 'requird'; did you mean 'required'?"
    )


def test_every_problem_is_reported_at_once() -> None:
    text = SAMPLE.replace("cycle_days: 90", "cycle_days: ninety").replace(
        "type: multi_choice", "type: checkbox", 1
    )
    lines = problems(text)
    assert len(lines) == 2
    assert any("cadence.cycle_days" in m and "'ninety'" in m for m in lines)
    assert any("intake.mentee[1].type" in m and "'checkbox'" in m for m in lines)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("calibration_day: 30", "calibration_day: 120"),
            "cadence.calibration_day: must come before the end of the cycle",
        ),
        (
            ("- marcus.lee@example.com", "- marcus"),
            "program.leads: Value error, 'marcus' is not an email address",
        ),
        (
            ("default_timezone: Europe/London", "default_timezone: Mars/Olympus"),
            "'Mars/Olympus' is not an IANA timezone",
        ),
        (
            ("      meaning: capacity\n", ""),
            "no question asks mentors how many mentees they can take",
        ),
        (("id: vision", "id: coaching"), "competencies[3].id: 'coaching' is used twice"),
        (('start: "09:00"', 'start: "18:00"'), "start 18:00 must be before end 17:30"),
        (
            (
                "      max: 3\n      meaning: competencies",
                "      max: 30\n      meaning: competencies",
            ),
            "max (30) is more than the 10 options",
        ),
    ],
)
def test_rules_across_settings(change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in SAMPLE
    lines = problems(SAMPLE.replace(old, new, 1))
    assert any(expected in line for line in lines), lines


def test_a_max_above_a_single_option_counts_it_in_the_singular() -> None:
    old = "options: [One-on-one, Group, Shadowing, Project-based]\n      min: 1\n"
    assert old in SAMPLE
    lines = problems(SAMPLE.replace(old, "options: [One-on-one]\n      min: 1\n      max: 2\n", 1))
    assert any(line.endswith("max (2) is more than the 1 option") for line in lines), lines


def test_yaml_syntax_errors_give_line_and_column() -> None:
    [message] = problems("program:\n  id: x\n  name: [unclosed\n")
    # The line with the unclosed bracket, at the bracket; not the end of the file.
    assert message.startswith("app.yaml:3:9: not valid YAML:")


def test_an_empty_file_says_so() -> None:
    assert problems("") == ["app.yaml: the file is empty; start from the shipped app.yaml"]


def test_a_file_that_is_not_a_mapping() -> None:
    [message] = problems("- just\n- a list\n")
    assert "must be a mapping of settings" in message


def test_a_missing_file_names_the_variable_to_set(tmp_path: Path) -> None:
    with pytest.raises(ProgramFileError) as raised:
        load_programs(tmp_path / "nope.yaml")
    assert "no such file; point MENTORBOT_CONFIG at your program file" in raised.value.lines[0]


def test_survey_questions_are_checked_like_the_intake() -> None:
    broken = SAMPLE.replace(
        "        min: 1\n        max: 5\n        help: 1 = not at all, 5 = very useful\n",
        "        help: 1 = not at all, 5 = very useful\n",
    ).replace('        options: ["Yes", "Not sure", "No"]\n', "")
    found = problems(broken)
    assert len(found) == 2, found
    assert "feedback.surveys.pulse[0]: a scale question needs min and max" in found[0]
    assert "feedback.surveys.end_of_cycle[1].options: a single_choice question needs" in found[1]


def test_a_program_without_a_feedback_section_asks_the_default_surveys() -> None:
    start = SAMPLE.index("\n# Structured feedback.")
    program = parse_programs(SAMPLE[:start], source="app.yaml").first
    pulse = program.feedback.surveys.pulse
    assert [q.id for q in pulse] == ["usefulness", "next_step", "comment"]
    assert [c.label for c in pulse[1].choices] == ["Yes", "No"]
    assert program.feedback.share_with_pair is False


def test_schema_errors_do_not_hide_the_other_problems() -> None:
    text = SAMPLE.replace("type: multi_choice", "type: checkbox", 1).replace(
        "      options:\n        - Talking things through\n        - Watching someone do it\n"
        "        - Trying it myself with feedback\n        - Reading and reflecting\n",
        "",
        1,
    )
    lines = problems(text)
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"app.yaml:{line_of(text, 'type: checkbox')}: ")
    assert "intake.mentee[1].type" in lines[0] and "'checkbox'" in lines[0]
    assert lines[1] == (
        f"app.yaml:{line_of(text, 'id: learning_style')}: intake.mentee[2].options: "
        "a single_choice question needs options: a list, or competencies"
    )


@pytest.mark.parametrize(
    ("broken", "fixed", "needle", "says"),
    [
        ("  cycle_days: 90", "   cycle_days: 90", "   cycle_days", "indented differently"),
        (
            "options: [One-on-one, Group, Shadowing, Project-based]",
            "options: [One-on-one, Group, Shadowing, Project-based",
            "Shadowing, Project-based\n",
            "this [ is not closed",
        ),
        ("  cycle_days: 90", "\tcycle_days: 90", "\tcycle_days", "a tab character"),
    ],
    ids=["indentation", "unclosed-bracket", "tab"],
)
def test_a_yaml_error_points_at_the_broken_line(
    broken: str, fixed: str, needle: str, says: str
) -> None:
    text = SAMPLE.replace(broken, fixed, 1)
    [message] = problems(text)
    line = line_of(text, needle.rstrip("\n"))
    assert message.startswith(f"app.yaml:{line}:"), message
    assert says in message


@pytest.mark.parametrize("value", ["40", "-0.1"])
def test_check_config_says_what_a_min_fit_outside_0_to_1_should_be(
    value: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.cli import main

    assert "  min_fit: 0\n" in SAMPLE
    text = SAMPLE.replace("  min_fit: 0\n", f"  min_fit: {value}\n")
    path = tmp_path / "app.yaml"
    path.write_text(text)
    monkeypatch.delenv("MENTORBOT_CONFIG", raising=False)

    assert main(["check-config", str(path)]) == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"{path}:{line_of(text, 'min_fit:')}: matching.min_fit: must be a fit between 0 and 1, "
        'as a match review shows it (e.g. 0.4 keeps every pair below "fit 0.40" out of a '
        f"round) (got {value})\n"
    )


def test_an_option_label_too_long_for_a_button_is_refused_with_the_limit_and_where() -> None:
    long_label = "Reading and reflecting on long books about leadership and long books about it"
    text = SAMPLE.replace("        - Reading and reflecting\n", f"        - {long_label}\n", 1)
    [message] = problems(text)
    assert message == (
        f"app.yaml:{line_of(text, long_label)}: intake.mentee[2].options[3]: "
        f"{long_label[:30]!r}… is {len(long_label)} characters; an option shows at most 75 "
        "(Slack's limit for a button or a menu option): shorten it"
    )


def test_an_option_label_of_75_characters_is_fine() -> None:
    label = "Reading" + "!" * 68
    assert len(label) == 75
    parse_programs(
        SAMPLE.replace("- Reading and reflecting\n", f"- {label}\n", 1), source="app.yaml"
    )


def test_a_competency_too_long_for_an_option_is_refused_by_name_and_id() -> None:
    long_name = "Communicating a vision to every team, partner and board in plain words" + "!" * 8
    long_id = "vision-" + "x" * 130
    text = SAMPLE.replace("name: Communicating a vision", f"name: {long_name}", 1).replace(
        "id: vision", f"id: {long_id}", 1
    )
    lines = problems(text)
    assert lines == [
        f"app.yaml:{line_of(text, long_id)}: competencies[1].id: {long_id[:30]!r}… is "
        f"{len(long_id)} characters; an option's stored value can have at most 130 (Slack "
        "takes 150 for an option's value, and 20 of them carry the question's reference): "
        "shorten it",
        f"app.yaml:{line_of(text, long_name)}: competencies[1].name: {long_name[:30]!r}… is "
        f"{len(long_name)} characters; an option shows at most 75 (Slack's limit for a button "
        "or a menu option): shorten it",
    ]
