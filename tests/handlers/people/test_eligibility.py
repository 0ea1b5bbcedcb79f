"""Who may join a program: each eligibility field, per role, invitations and cohort windows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import yaml

from handlers.core.program import Eligibility, Program
from handlers.core.programs import Programs
from handlers.people.eligibility import Facts, facts_about, judge
from storage import Database, Invitation, Person, Role
from tests.helpers import make_person

#: Inside the sales pilot's enrolment window (4 to 29 Jan 2027).
DURING = datetime(2027, 1, 10, 10, 0, tzinfo=UTC)
NOBODY = Facts(has_reports=False)


def person(**fields: Any) -> Person:
    moment = datetime(2026, 11, 1, tzinfo=UTC)
    fields.setdefault("attributes", {})
    return Person(
        email="ana.lopez@example.com",
        name="Ana Lopez",
        created_at=moment,
        updated_at=moment,
        **fields,
    )


def with_rules(programs: Programs, rules: str) -> Program:
    """The leadership program with the eligibility written as YAML (as app.yaml has it)."""
    eligibility = Eligibility.model_validate(yaml.safe_load(rules))
    return programs.first.model_copy(update={"eligibility": eligibility})


def why(program: Program, someone: Person, facts: Facts = NOBODY, now: datetime = DURING) -> str:
    verdict = judge(program, person=someone, facts=facts, now=now)
    return verdict.reason if not verdict.allowed else "allowed"


def test_department_is_any_listed_whatever_the_case(programs: Programs) -> None:
    program = with_rules(programs, "department: [Sales, Marketing]")
    assert why(program, person(department="sales")) == "allowed"
    assert why(program, person(department="MARKETING")) == "allowed"
    assert why(program, person(department="Engineering")) == (
        "This program is for the Sales or Marketing departments."
    )
    assert why(program, person()) == "This program is for the Sales or Marketing departments."


def test_level_bounds_are_inclusive(programs: Programs) -> None:
    program = with_rules(programs, "level: {min: 4}")
    assert why(program, person(level=4)) == "allowed"
    assert why(program, person(level=3)) == "This program is for levels 4 and above."
    program = with_rules(programs, "level: {max: 4}")
    assert why(program, person(level=4)) == "allowed"
    assert why(program, person(level=5)) == "This program is for levels 4 and below."
    program = with_rules(programs, "level: {min: 2, max: 3}")
    assert [why(program, person(level=n)) == "allowed" for n in (1, 2, 3, 4)] == [
        False,
        True,
        True,
        False,
    ]


def test_no_level_in_the_directory_fails_a_level_rule_and_says_what_to_do(
    programs: Programs,
) -> None:
    program = with_rules(programs, "level: {min: 4}")
    assert why(program, person(level=None)) == (
        "This program is for levels 4 and above, and the directory has no level for you; "
        "ask HR or the program lead to add it."
    )


def test_location_and_title(programs: Programs) -> None:
    program = with_rules(programs, "location: London")
    assert why(program, person(location="london")) == "allowed"
    assert why(program, person(location="Leeds")) == "This program is for people in London."
    program = with_rules(programs, "title: [engineer, designer]")
    assert why(program, person(title="Senior Software Engineer")) == "allowed"
    assert why(program, person(title="Account Executive")) == (
        'This program is for people whose title includes "engineer" or "designer".'
    )


def test_manager_true_and_false(programs: Programs) -> None:
    managers = with_rules(programs, "manager: true")
    assert why(managers, person(), Facts(has_reports=True)) == "allowed"
    assert why(managers, person()) == "This program is for people with direct reports."
    others = with_rules(programs, "manager: false")
    assert why(others, person()) == "allowed"
    assert why(others, person(), Facts(has_reports=True)) == (
        "This program is for people without direct reports."
    )


def test_attributes_compare_as_text_and_yaml_yes_means_yes(programs: Programs) -> None:
    program = with_rules(programs, "attributes: {hipo: yes, band: [3, 4]}")
    assert why(program, person(attributes={"hipo": "Yes", "band": "3"})) == "allowed"
    assert why(program, person(attributes={"HIPO": "yes", "band": "4"})) == "allowed"
    assert why(program, person(attributes={"hipo": "no", "band": "3"})) == (
        "This program is for people whose hipo in the directory is yes."
    )
    assert why(program, person(attributes={"hipo": "yes"})) == (
        "This program is for people whose band in the directory is 3 or 4."
    )


def test_each_role_has_its_own_rules_on_top_of_the_shared_ones(programs: Programs) -> None:
    leadership = programs.get("leadership-2027")
    assert leadership is not None
    verdict = judge(leadership, person=person(level=3), facts=NOBODY, now=DURING)
    assert verdict.roles == (Role.MENTEE,)
    assert verdict.role_reasons[Role.MENTOR] == (
        "This program is for levels 5 and above as a mentor."
    )
    assert judge(leadership, person=person(level=6), facts=NOBODY, now=DURING).roles == (
        Role.MENTOR,
    )
    assert why(leadership, person(level=1)) == (
        "This program is for levels 2 to 4 as a mentee and levels 5 and above as a mentor."
    )
    shared = with_rules(programs, "{department: Sales, mentor: {level: {min: 5}}}")
    assert judge(
        shared, person=person(department="Sales", level=3), facts=NOBODY, now=DURING
    ).roles == (Role.MENTEE,)
    assert why(shared, person(department="Legal", level=6)) == (
        "This program is for the Sales department."
    )


def test_invite_only_needs_an_invitation_and_names_a_lead(programs: Programs) -> None:
    pilot = programs.get("sales-pilot")
    assert pilot is not None
    seller = person(department="Sales", level=3)
    named = Facts(has_reports=False, lead_names={"priya.shah@example.com": "Priya Shah"})
    assert why(pilot, seller, named) == (
        "This program is by invitation; ask Priya Shah (a program lead) if you'd like to take part."
    )
    assert why(pilot, seller) == (
        "This program is by invitation; ask the program lead if you'd like to take part."
    )
    invited = Facts(has_reports=False, invited_to=frozenset({"sales-pilot"}))
    assert why(pilot, seller, invited) == "allowed"
    # An invitation opens the door; it does not change who the program is for.
    assert why(pilot, person(department="Legal"), invited) == (
        "This program is for the Sales department."
    )


def test_a_cohort_takes_people_only_inside_its_window_in_their_own_timezone(
    programs: Programs,
) -> None:
    pilot = programs.get("sales-pilot")
    assert pilot is not None
    invited = Facts(has_reports=False, invited_to=frozenset({"sales-pilot"}))
    london = person(department="Sales", timezone="Europe/London")
    before = datetime(2027, 1, 3, 23, 0, tzinfo=UTC)
    assert why(pilot, london, invited, before) == (
        "Enrolment for Sales Leadership Pilot opens on Mon 4 Jan."
    )
    assert why(pilot, london, invited, datetime(2027, 1, 4, 0, 0, tzinfo=UTC)) == "allowed"
    last_evening = datetime(2027, 1, 29, 23, 30, tzinfo=UTC)
    assert why(pilot, london, invited, last_evening) == "allowed"
    after = datetime(2027, 1, 30, 5, 0, tzinfo=UTC)
    assert why(pilot, london, invited, after) == (
        "Enrolment for Sales Leadership Pilot closed on Fri 29 Jan; the next cohort will be "
        "announced by the program leads."
    )
    # Still the 29th in California.
    assert why(
        pilot, person(department="Sales", timezone="America/Los_Angeles"), invited, after
    ) == ("allowed")


def test_nobody_joins_an_archived_program(programs: Programs) -> None:
    gone = programs.of("mentoring-2025")
    assert why(gone, person(level=3)) == "mentoring-2025 has ended, so nobody can join it any more."


async def test_facts_come_from_the_directory_and_the_invitations(
    database: Database, programs: Programs
) -> None:
    cara = await make_person(database, "cara.diaz@example.com", name="Cara Diaz")
    await make_person(database, "ben.ng@example.com", name="Ben Ng", manager_id=cara.id)
    ben = await make_person(database, "ben.ng@example.com")
    await make_person(database, "priya.shah@example.com", name="Priya Shah")
    async with database.session() as session:
        session.add(
            Invitation(
                program="sales-pilot",
                person_id=ben.id,
                invited_by=cara.id,
                invited_at=DURING,
            )
        )
    async with database.session() as session:
        about_cara = await facts_about(session, cara, programs)
        about_ben = await facts_about(session, ben, programs)
    assert (about_cara.has_reports, about_ben.has_reports) == (True, False)
    assert (about_cara.invited_to, about_ben.invited_to) == (frozenset(), {"sales-pilot"})
    assert about_ben.lead_names == {"priya.shah@example.com": "Priya Shah"}
    managers = with_rules(programs, "manager: true")
    assert why(managers, cara, about_cara) == "allowed"
    assert why(managers, ben, about_ben) == "This program is for people with direct reports."
