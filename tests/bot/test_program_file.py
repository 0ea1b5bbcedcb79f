"""Several programs in one file: what is shared, what each overrides, and located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ProgramFileError, parse_programs
from handlers.core.program import LevelRange, ProgramType
from handlers.core.programs import Programs
from storage import Role
from tests.conftest import SEVERAL_PROGRAMS

ROOT = Path(__file__).resolve().parents[2]
SEVERAL = SEVERAL_PROGRAMS.read_text()
#: A file in the first format (a single program: section).
ONE = (ROOT / "tests" / "fixtures" / "one_program.yaml").read_text()


def problems(text: str) -> list[str]:
    with pytest.raises(ProgramFileError) as raised:
        parse_programs(text, source="app.yaml")
    return raised.value.lines


def test_each_program_gets_the_shared_settings_and_its_own_overrides(programs: Programs) -> None:
    leadership, reverse, peer, pilot = programs
    assert [p.type for p in programs] == [
        ProgramType.ONE_TO_ONE,
        ProgramType.REVERSE,
        ProgramType.PEER,
        ProgramType.ONE_TO_ONE,
    ]
    # A section a program gives replaces the default section of the same name, whole.
    assert reverse.matching.min_level_gap == 2
    assert reverse.matching.weights == leadership.matching.weights
    assert leadership.matching.min_level_gap == 1
    assert peer.intake.roles == [Role.PEER] and peer.roles == [Role.PEER]
    assert leadership.intake == reverse.intake  # both take the default intake
    # Shared: the taxonomy, the timezone, the small-group rule.
    assert {p.default_timezone for p in programs} == {"Europe/London"}
    assert peer.competencies == leadership.competencies
    # Global leads lead every program; a program's own leads only theirs.
    assert all(p.is_lead("hr.lead@example.com") for p in programs)
    assert programs.led_by("marcus.lee@example.com") == [reverse, peer]
    assert not leadership.is_lead("marcus.lee@example.com")
    assert pilot.invite_only and pilot.cohort is not None


def test_a_one_program_file_is_one_program_like_any_other() -> None:
    programs = parse_programs(ONE)
    assert len(programs) == 1 and not programs.several
    assert programs.first.id == "leadership-2027"
    assert programs.first.type is ProgramType.ONE_TO_ONE
    assert programs.first.is_lead("priya.shah@example.com")


def test_the_shipped_file_has_a_leadership_and_a_reverse_program() -> None:
    shipped = parse_programs((ROOT / "app.yaml").read_text())
    assert [(p.id, p.type) for p in shipped] == [
        ("leadership-2027", ProgramType.ONE_TO_ONE),
        ("reverse-2027", ProgramType.REVERSE),
    ]
    leadership, reverse = shipped
    # The first program is the one-program file's, setting for setting.
    assert leadership == parse_programs(ONE).first
    assert not reverse.is_lead("priya.shah@example.com")
    assert [r.level for r in reverse.eligibility.for_role(Role.MENTOR)][-1] == LevelRange(max=4)
    assert [r.level for r in reverse.eligibility.for_role(Role.MENTEE)][-1] == LevelRange(min=6)


def test_a_program_no_longer_in_the_file_is_archived_not_lost(programs: Programs) -> None:
    gone = programs.of("mentoring-2025")
    assert gone.archived and gone.id == "mentoring-2025"
    assert gone.is_lead("hr.lead@example.com") and not gone.is_lead("priya.shah@example.com")
    assert gone.invite_only  # nobody joins an archived program
    assert programs.get("mentoring-2025") is None


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def test_two_programs_with_one_id_are_refused_where_the_second_is() -> None:
    text = _replace(SEVERAL, "  - id: reverse-2027", "  - id: leadership-2027")
    assert any(
        "programs[1].id: program id 'leadership-2027' is used twice" in line
        for line in problems(text)
    )


def test_a_program_type_that_does_not_exist_is_refused() -> None:
    text = _replace(SEVERAL, "type: reverse", "type: upside_down")
    [line] = [line for line in problems(text) if "programs[1].type" in line]
    assert "'one_to_one', 'reverse', 'peer' or 'circles'" in line


def test_a_peer_program_with_a_mentor_intake_is_refused() -> None:
    text = _replace(
        SEVERAL,
        "    intake:\n      peer:\n",
        "    intake:\n      mentor:\n        - id: x\n          prompt: X?\n          type: text\n"
        "      peer:\n",
    )
    assert any(
        "programs[2].intake.mentor: a peer program has no mentor role" in line
        for line in problems(text)
    )


def test_a_peer_program_needs_a_peer_questionnaire_with_strengths() -> None:
    text = _replace(SEVERAL, "          meaning: strengths\n", "\n")
    assert any(
        "programs[2].intake.peer: no question asks which competencies peers can help "
        "others with" in line
        for line in problems(text)
    )
    start = SEVERAL.index("    intake:\n      peer:\n")
    inherits = SEVERAL[:start] + SEVERAL[SEVERAL.index("  - id: sales-pilot") :]
    assert any(
        "programs[2]: no intake questions for the peer role: add intake: with a peer: "
        "questionnaire to this program" in line
        for line in problems(inherits)
    )


def test_an_eligibility_field_the_directory_lacks_is_refused_with_the_known_ones() -> None:
    text = _replace(SEVERAL, "        level: {min: 2, max: 4}", "        grade: {min: 2}")
    [line] = [line for line in problems(text) if "grade" in line]
    assert "programs[0].eligibility.mentee.grade" in line
    assert "department" in line and "attributes" in line


def test_cohort_dates_that_make_no_sense_are_refused() -> None:
    backwards = _replace(SEVERAL, "enrol_from: 2027-01-04", "enrol_from: 2027-02-04")
    assert any("cohort.enrol_from: enrolment opens" in line for line in problems(backwards))
    early = _replace(SEVERAL, "starts: 2027-02-01", "starts: 2027-01-15")
    assert any("cohort.starts: the cohort starts" in line for line in problems(early))


def test_a_program_nobody_leads_is_refused() -> None:
    text = _replace(SEVERAL, "leads:\n  - hr.lead@example.com\n", "")
    text = _replace(
        text, "    leads: [marcus.lee@example.com]\n    eligibility:", "    eligibility:"
    )
    assert any("programs[1].leads: no one leads this program" in line for line in problems(text))


def test_program_and_programs_together_are_refused() -> None:
    text = SEVERAL + "\nprogram:\n  id: extra\n  name: Extra\n  leads: [a@example.com]\n"
    assert any("both program:" in line for line in problems(text))


def test_a_role_rule_for_a_role_the_program_lacks_is_refused() -> None:
    text = _replace(
        SEVERAL,
        "    matching:\n      max_level_gap: 1\n",
        "    matching:\n      max_level_gap: 1\n    eligibility:\n      mentor:\n        manager: true\n",
    )
    assert any(
        "programs[2].eligibility.mentor: a peer program has no mentor role" in line
        for line in problems(text)
    )


def test_yaml_yes_in_an_attribute_rule_means_the_imported_text_yes() -> None:
    text = _replace(
        SEVERAL, "        level: {min: 2, max: 4}", "        attributes: {hipo: yes, band: 3}"
    )
    rules = parse_programs(text).first.eligibility.mentee
    assert rules is not None and rules.attributes == {"hipo": ["yes"], "band": ["3"]}


CIRCLES = (ROOT / "tests" / "fixtures" / "circles.yaml").read_text()


def test_a_circles_program_forms_circles_of_mentors_and_mentees() -> None:
    programs = parse_programs(CIRCLES, source="circles.yaml")
    circles = programs.of("leader-circles")
    assert circles.type is ProgramType.CIRCLES
    assert circles.roles == [Role.MENTEE, Role.MENTOR]
    assert circles.circles is not None
    assert (circles.circles.size.min, circles.circles.size.max) == (3, 5)
    assert circles.circles.capacity == 1
    assert programs.of("leadership-2027").circles is None


def test_a_circles_program_without_a_circles_section_takes_the_default_sizes() -> None:
    text = _replace(CIRCLES, "      size: {min: 3, max: 5}\n", "")
    circles = parse_programs(text, source="circles.yaml").of("leader-circles").circles
    assert circles is not None and (circles.size.min, circles.size.max) == (3, 6)


def test_a_circle_size_with_min_above_max_is_refused_where_it_is() -> None:
    text = _replace(CIRCLES, "size: {min: 3, max: 5}", "size: {min: 6, max: 4}")
    assert any(
        "programs[0].circles.size.min: min (6) is more than max (4)" in line
        for line in problems(text)
    )


def test_a_facilitator_with_no_capacity_is_refused() -> None:
    text = _replace(CIRCLES, "      capacity: 1\n", "      capacity: 0\n")
    assert any(
        "programs[0].circles.capacity: a facilitator with a capacity of 0" in line
        for line in problems(text)
    )


def test_circles_in_a_peer_program_are_refused() -> None:
    text = _replace(
        SEVERAL,
        "    matching:\n      max_level_gap: 1\n",
        "    matching:\n      max_level_gap: 1\n    circles:\n      size: {min: 3, max: 5}\n",
    )
    assert any(
        "programs[2].circles: circles: is for a type: circles program, and this one is peer" in line
        for line in problems(text)
    )


def test_the_readmes_circles_program_is_valid_in_the_circles_fixture() -> None:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("  - id: leader-circles\n    name: Leadership Circles")
    example = readme[start : readme.index("```", start)]
    ours = CIRCLES[CIRCLES.index("  - id: leader-circles") : CIRCLES.index("  - id: leadership")]
    program = parse_programs(_replace(CIRCLES, ours, example), source="README.md").of(
        "leader-circles"
    )
    assert program.type is ProgramType.CIRCLES and program.circles is not None
    assert program.intake.for_role(Role.MENTOR)[1].prompt == (
        "How many circles can you facilitate at the same time?"
    )
