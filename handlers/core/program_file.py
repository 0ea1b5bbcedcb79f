"""The program file (``app.yaml``) as written, its cross-field rules, and the programs it means.

The top level holds what programs share (the competency taxonomy, global ``leads``,
``min_group_size``, ``default_timezone``, and the default ``intake``, ``cadence``,
``matching``, ``feedback`` and ``privacy``); ``programs:`` lists each program, whose own
``intake``, ``cadence``, ``matching`` or ``feedback`` replaces the default section of the
same name. A file with a single ``program:`` section (the first format) is one program.

Loading the file and locating problems in it is bot/'s job (``bot.config``); this module
says what a valid file is (:func:`check_file`) and what it means (:func:`resolve`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from handlers.core.messages import plural
from handlers.core.program import (
    COHORT_DATES,
    EMAIL_RE,
    OPTION_LABEL_LIMIT,
    OPTION_VALUE_LIMIT,
    ROLES_OF_TYPE,
    SLUG,
    Cadence,
    Choice,
    Circles,
    Cohort,
    Competency,
    Eligibility,
    FeedbackSettings,
    Intake,
    Matching,
    Meaning,
    PrivacySettings,
    Program,
    ProgramType,
    Question,
    QuestionType,
    Rules,
)
from handlers.core.programs import Programs
from storage import Role


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _emails(leads: list[str]) -> list[str]:
    for lead in leads:
        if not EMAIL_RE.match(lead):
            raise ValueError(f"{lead!r} is not an email address; list leads by email")
    return [lead.strip().lower() for lead in leads]


class ProgramInfo(_Strict):
    """The ``program:`` section of a one-program file: who runs it and who may take part."""

    id: Annotated[str, Field(pattern=SLUG)]
    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    leads: list[str] = Field(min_length=1)
    roles: list[Role] = Field(default_factory=lambda: [Role.MENTEE, Role.MENTOR], min_length=1)
    default_timezone: str | None = None
    min_group_size: Annotated[int, Field(ge=2, le=100)] | None = None

    _leads_are_emails = field_validator("leads")(_emails)


class ProgramSpec(_Strict):
    """One entry of ``programs:``: what the program is and what it sets differently."""

    id: Annotated[str, Field(pattern=SLUG)]
    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    type: ProgramType = ProgramType.ONE_TO_ONE
    leads: list[str] = Field(default_factory=list)
    #: Only some of the type's roles (e.g. a pilot that takes mentees only for now).
    roles: list[Role] | None = Field(default=None, min_length=1)
    eligibility: Eligibility | None = None
    #: The same as ``eligibility: {invite_only: true}``.
    invite_only: bool = False
    cohort: Cohort | None = None
    intake: Intake | None = None
    cadence: Cadence | None = None
    matching: Matching | None = None
    #: How circles are formed (``type: circles`` only; defaults when not given).
    circles: Circles | None = None
    feedback: FeedbackSettings | None = None

    _leads_are_emails = field_validator("leads")(_emails)


class ProgramFile(_Strict):
    """The whole file as written."""

    #: The first format: one program, its sections at the top level.
    program: ProgramInfo | None = None
    programs: list[ProgramSpec] | None = Field(default=None, min_length=1)
    competencies: list[Competency] = Field(min_length=1)
    #: Global leads: they lead every program.
    leads: list[str] = Field(default_factory=list)
    min_group_size: Annotated[int, Field(ge=2, le=100)] = 5
    default_timezone: str = "UTC"
    intake: Intake | None = None
    cadence: Cadence = Field(default_factory=Cadence)
    matching: Matching = Field(default_factory=Matching)
    feedback: FeedbackSettings = Field(default_factory=FeedbackSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)

    _leads_are_emails = field_validator("leads")(_emails)

    def specs(self) -> list[tuple[Location, ProgramSpec]]:
        """Each program as written, with where it is in the file."""
        if self.programs is not None:
            return [(("programs", i), spec) for i, spec in enumerate(self.programs)]
        if self.program is not None:
            info = self.program
            spec = ProgramSpec(
                id=info.id,
                name=info.name,
                description=info.description,
                leads=info.leads,
                roles=info.roles,
            )
            return [(("program",), spec)]
        return []

    @property
    def timezone(self) -> tuple[Location, str]:
        """The default timezone and where it is written."""
        if self.program is not None and self.program.default_timezone is not None:
            return ("program", "default_timezone"), self.program.default_timezone
        return ("default_timezone",), self.default_timezone

    @property
    def group_size(self) -> int:
        """The smallest group a report shows figures for."""
        if self.program is not None and self.program.min_group_size is not None:
            return self.program.min_group_size
        return self.min_group_size


Location = tuple[str | int, ...]


class Problem(BaseModel):
    """One thing wrong with a program file: where it is and what would fix it."""

    model_config = ConfigDict(frozen=True)

    loc: Location
    message: str


@dataclass(frozen=True)
class _Taxonomy:
    competencies: list[Competency]

    @property
    def names(self) -> str:
        return ", ".join(c.name for c in self.competencies)

    def competency(self, key: str) -> Competency | None:
        wanted = key.strip().casefold()
        for competency in self.competencies:
            if competency.id == key or competency.name.casefold() == wanted:
                return competency
        return None


def resolve(file: ProgramFile) -> Programs:
    """The programs a sound file means (run :func:`check_file` first)."""
    programs = []
    for _, spec in file.specs():
        roles = spec.roles or list(ROLES_OF_TYPE[spec.type])
        eligibility = spec.eligibility or Eligibility()
        if spec.invite_only and not eligibility.invite_only:
            eligibility = eligibility.model_copy(update={"invite_only": True})
        leads = list(dict.fromkeys([*spec.leads, *file.leads]))
        programs.append(
            Program(
                id=spec.id,
                name=spec.name,
                description=spec.description,
                type=spec.type,
                leads=leads,
                global_leads=list(file.leads),
                roles=roles,
                eligibility=eligibility,
                cohort=spec.cohort,
                competencies=file.competencies,
                intake=spec.intake or file.intake or Intake(),
                cadence=spec.cadence or file.cadence,
                matching=spec.matching or file.matching,
                circles=(spec.circles or Circles()) if spec.type is ProgramType.CIRCLES else None,
                feedback=spec.feedback or file.feedback,
                privacy=file.privacy,
                default_timezone=file.timezone[1],
                min_group_size=file.group_size,
            )
        )
    template = programs[0].model_copy(
        update={
            "intake": file.intake or programs[0].intake,
            "cadence": file.cadence,
            "matching": file.matching,
            "feedback": file.feedback,
            "type": ProgramType.ONE_TO_ONE,
            "roles": [Role.MENTEE, Role.MENTOR],
        }
    )
    return Programs(programs, leads=file.leads, archive_template=template)


def check_file(file: ProgramFile) -> list[Problem]:
    """Cross-field rules a schema cannot express; resolves choice options as it goes.

    Each section is checked where it is written: the shared defaults once at the top
    level, a program's own sections under ``programs[i]``.

    Returns:
        Every problem found, empty when the file is sound. Choice options are resolved
        on the questions only when there are no problems.
    """
    problems: list[Problem] = []
    resolved: list[tuple[Question, tuple[Choice, ...]]] = []

    def problem(loc: Location, message: str) -> None:
        problems.append(Problem(loc=loc, message=message))

    taxonomy = _Taxonomy(file.competencies)
    _check_competencies(file.competencies, problem)
    if file.program is not None and file.programs is not None:
        problem(
            ("programs",),
            "the file has both program: (one program) and programs: (several); keep "
            "programs: and move the program: section into it as its first entry",
        )
    elif file.program is None and file.programs is None:
        problem(
            (),
            "no program: add programs: with at least one program (id, name, type, leads), "
            "or start from the shipped app.yaml",
        )
    if file.intake is not None:
        _check_intake(file.intake, ("intake",), taxonomy, problem, resolved)
    _check_surveys(file.feedback, ("feedback",), taxonomy, problem, resolved)
    _check_cadence(file.cadence, ("cadence",), problem)
    _check_matching(file.matching, ("matching",), problem)
    where, timezone = file.timezone
    if not _is_timezone(timezone):
        problem(
            where,
            f"{timezone!r} is not an IANA timezone (e.g. Europe/Berlin, America/New_York, UTC)",
        )

    seen: dict[str, int] = {}
    for loc, spec in file.specs():
        if spec.id in seen:
            problem(
                (*loc, "id"), f"program id {spec.id!r} is used twice; each program needs its own id"
            )
        seen[spec.id] = 1
        _check_spec(file, loc, spec, taxonomy, problem, resolved)

    if not problems:
        for question, choices in resolved:
            question._choices = choices
    return problems


_Report = Callable[[Location, str], None]


def _check_circles(spec: ProgramSpec, loc: Location, problem: _Report) -> None:
    """A ``circles:`` section: only in a circles program, sizes in order, room to facilitate."""
    circles = spec.circles
    assert circles is not None
    if spec.type is not ProgramType.CIRCLES:
        problem(
            loc,
            f"circles: is for a type: circles program, and this one is {spec.type}: "
            "remove circles:, or make the program type: circles",
        )
        return
    size = circles.size
    if size.min > size.max:
        problem(
            (*loc, "size", "min"),
            f"min ({size.min}) is more than max ({size.max}): no circle could be formed; "
            "make min at most max",
        )
    if circles.capacity < 1:
        problem(
            (*loc, "capacity"),
            "a facilitator with a capacity of 0 could take no circle: give 1 or more",
        )


_Resolved = list[tuple[Question, tuple[Choice, ...]]]


def _check_spec(
    file: ProgramFile,
    loc: Location,
    spec: ProgramSpec,
    taxonomy: _Taxonomy,
    problem: _Report,
    resolved: _Resolved,
) -> None:
    """The rules one program must follow, with its own sections and what it inherits."""
    allowed = ROLES_OF_TYPE[spec.type]
    roles = spec.roles or list(allowed)
    for i, role in enumerate(spec.roles or []):
        if role not in allowed:
            problem(
                (*loc, "roles", i),
                f"a {spec.type} program has no {role} role; its roles are " + ", ".join(allowed),
            )
    if not spec.leads and not file.leads:
        problem(
            (*loc, "leads"),
            "no one leads this program: list its leads by email, or global leads at the top level",
        )
    if spec.intake is not None:
        _check_intake(spec.intake, (*loc, "intake"), taxonomy, problem, resolved)
    if spec.feedback is not None:
        _check_surveys(spec.feedback, (*loc, "feedback"), taxonomy, problem, resolved)
    if spec.cadence is not None:
        _check_cadence(spec.cadence, (*loc, "cadence"), problem)
    if spec.matching is not None:
        _check_matching(spec.matching, (*loc, "matching"), problem)
    if spec.circles is not None:
        _check_circles(spec, (*loc, "circles"), problem)

    intake = spec.intake or file.intake
    written = (*loc, "intake") if spec.intake is not None else ("intake",)
    for role in roles:
        if role not in allowed:
            continue
        if intake is None or not intake.for_role(role):
            where = (*loc, "intake") if spec.intake is not None else loc
            problem(
                where,
                f"no intake questions for the {role} role: add intake: with a {role}: "
                "questionnaire" + (" to this program" if spec.intake is None else ""),
            )
    if intake is not None:
        for role in intake.roles:
            if role not in allowed and spec.intake is not None:
                problem(
                    (*written, role.value),
                    f"a {spec.type} program has no {role} role, so no {role} intake; "
                    + (
                        "its people enrol as peer: ask under peer:"
                        if spec.type is ProgramType.PEER
                        else "remove it"
                    ),
                )
    if spec.eligibility is not None:
        for role in (Role.MENTEE, Role.MENTOR, Role.PEER):
            if getattr(spec.eligibility, role.value) is not None and role not in allowed:
                problem(
                    (*loc, "eligibility", role.value),
                    f"a {spec.type} program has no {role} role; its roles are "
                    + ", ".join(allowed),
                )
        for where, rules in _all_rules(spec.eligibility):
            low, high = (rules.level.min, rules.level.max) if rules.level else (None, None)
            if low is not None and high is not None and low > high:
                problem(
                    (*loc, "eligibility", *where, "level", "min"),
                    f"min ({low}) is above max ({high}): no one could join",
                )
    cohort = spec.cohort
    if cohort is not None:
        first, last = COHORT_DATES
        for name in ("enrol_from", "enrol_until", "starts"):
            day = getattr(cohort, name)
            if day is not None and not first <= day <= last:
                problem(
                    (*loc, "cohort", name),
                    f"{day.isoformat()} is too far off; cohort dates run from "
                    f"{first.isoformat()} to {last.isoformat()}",
                )
        if cohort.enrol_from is not None and cohort.enrol_from > cohort.enrol_until:
            problem(
                (*loc, "cohort", "enrol_from"),
                f"enrolment opens ({cohort.enrol_from}) after it closes "
                f"({cohort.enrol_until}); swap them or fix the dates",
            )
        if cohort.starts < cohort.enrol_until:
            problem(
                (*loc, "cohort", "starts"),
                f"the cohort starts ({cohort.starts}) before enrolment closes "
                f"({cohort.enrol_until}); matching runs when enrolment closes, so start on "
                "or after that day",
            )


def _all_rules(eligibility: Eligibility) -> list[tuple[Location, Rules]]:
    found: list[tuple[Location, Rules]] = [((), eligibility)]
    for role in (Role.MENTEE, Role.MENTOR, Role.PEER):
        rules = getattr(eligibility, role.value)
        if rules is not None:
            found.append(((role.value,), rules))
    return found


def _check_competencies(competencies: list[Competency], problem: _Report) -> None:
    seen_ids: set[str] = set()
    seen_names: set[str] = set()
    for i, competency in enumerate(competencies):
        if competency.id in seen_ids:
            problem(("competencies", i, "id"), f"{competency.id!r} is used twice")
        if competency.name.casefold() in seen_names:
            problem(("competencies", i, "name"), f"{competency.name!r} is used twice")
        seen_ids.add(competency.id)
        seen_names.add(competency.name.casefold())
        # A competency is an option of the questions that offer competencies.
        for part, message in _option_problems(competency.name, competency.id):
            problem(("competencies", i, "name" if part == "label" else "id"), message)


#: What a role's intake must ask, by meaning, and how to word the ask.
_NEEDED: dict[Role, tuple[tuple[Meaning, str], ...]] = {
    Role.MENTEE: ((Meaning.COMPETENCIES, "want to develop"),),
    Role.MENTOR: ((Meaning.COMPETENCIES, "can help with"),),
    Role.PEER: (
        (Meaning.COMPETENCIES, "want to develop"),
        (Meaning.STRENGTHS, "can help others with"),
    ),
}


def _check_intake(
    intake: Intake,
    loc: Location,
    taxonomy: _Taxonomy,
    problem: _Report,
    resolved: _Resolved,
) -> None:
    for role in intake.roles:
        questions = intake.for_role(role)
        question_ids: set[str] = set()
        for index, question in enumerate(questions):
            here: Location = (*loc, role.value, index)
            if question.id in question_ids:
                problem((*here, "id"), f"question id {question.id!r} is used twice in {role}")
            question_ids.add(question.id)
            resolved.append((question, _check_question(question, here, taxonomy, problem)))
        meanings = [q.meaning for q in questions if q.meaning is not None]
        for meaning in set(meanings):
            if meanings.count(meaning) > 1:
                problem((*loc, role.value), f"only one question may have meaning {meaning}")
        for meaning, what in _NEEDED[role]:
            asking = [q for q in questions if q.meaning is meaning]
            for q in asking:
                if q.options_from != "competencies" and q.options != "competencies":
                    problem(
                        (*loc, role.value, questions.index(q), "options"),
                        f"a question with meaning {meaning.value!r} must offer competencies: "
                        "set options: competencies (or options_from: competencies)",
                    )
            if not asking:
                problem(
                    (*loc, role.value),
                    f"no question asks which competencies {role}s {what}; add a multi_choice "
                    f"question with options: competencies and meaning: {meaning.value}",
                )
        if role is not Role.PEER:
            for q in questions:
                if q.meaning is Meaning.STRENGTHS:
                    problem(
                        (*loc, role.value, questions.index(q), "meaning"),
                        "meaning strengths is for peer programs; a mentor's competencies "
                        "are what they can help with (meaning: competencies)",
                    )
    if intake.mentor:
        capacity = [q for q in intake.mentor if q.meaning is Meaning.CAPACITY]
        if not capacity:
            problem(
                (*loc, "mentor"),
                "no question asks mentors how many mentees they can take; add a number "
                "question with meaning: capacity (e.g. min: 1, max: 5)",
            )
        elif capacity[0].type is not QuestionType.NUMBER or (capacity[0].min or 0) < 1:
            problem(
                (*loc, "mentor", intake.mentor.index(capacity[0])),
                "the capacity question must be type: number with min: 1 or more",
            )


def _check_surveys(
    feedback: FeedbackSettings,
    loc: Location,
    taxonomy: _Taxonomy,
    problem: _Report,
    resolved: _Resolved,
) -> None:
    for survey, questions in feedback.surveys.all().items():
        ids: set[str] = set()
        for index, question in enumerate(questions):
            here: Location = (*loc, "surveys", survey, index)
            if question.id in ids:
                problem((*here, "id"), f"question id {question.id!r} is used twice in {survey}")
            ids.add(question.id)
            if question.meaning is not None:
                problem((*here, "meaning"), "survey questions take no meaning; remove it")
            resolved.append((question, _check_question(question, here, taxonomy, problem)))


def _check_cadence(cadence: Cadence, loc: Location, problem: _Report) -> None:
    if cadence.calibration_day >= cadence.cycle_days:
        problem(
            (*loc, "calibration_day"),
            f"must come before the end of the cycle (cycle_days is {cadence.cycle_days})",
        )
    if cadence.checkin_every_days >= cadence.cycle_days:
        problem(
            (*loc, "checkin_every_days"),
            f"must be shorter than the cycle (cycle_days is {cadence.cycle_days})",
        )
    hours = cadence.working_hours
    if hours.start >= hours.end:
        problem((*loc, "working_hours"), f"start {hours.start} must be before end {hours.end}")


def _check_matching(matching: Matching, loc: Location, problem: _Report) -> None:
    if sum(matching.weights.model_dump().values()) <= 0:
        problem((*loc, "weights"), "at least one weight must be above 0")


def program_notes(file: ProgramFile) -> list[Problem]:
    """What a sound program file means that its author may not expect.

    Weights that do not add up to 1 are normalised, not refused: matching has always
    scored with each weight's share of the total, and relative weights ("3, 1, 1") are a
    natural way to write them; refusing would break working files for no gain. But a
    typo (0.9 for 0.09) would silently shift every match, so the note spells out the
    share each part really gets.
    """
    notes = []
    sections: list[tuple[Location, Matching]] = [(("matching",), file.matching)]
    sections += [((*loc, "matching"), spec.matching) for loc, spec in file.specs() if spec.matching]
    for loc, matching in sections:
        weights = matching.weights.model_dump()
        total = sum(weights.values())
        if total <= 0 or abs(total - 1) < 1e-6:
            continue
        shares = ", ".join(f"{name} {value / total:.0%}" for name, value in weights.items())
        notes.append(
            Problem(
                loc=(*loc, "weights"),
                message=(
                    f"add up to {total:g}, not 1; normalised, so each counts as its share of "
                    f"the total: {shares}"
                ),
            )
        )
    return notes


def _is_timezone(name: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _option_problems(label: str, value: str) -> list[tuple[str, str]]:
    """What keeps an option from working on every channel: ("label" or "value", why).

    A value that is its label (a listed option) is only checked as a label.
    """
    problems = []
    if value != label and len(value) > OPTION_VALUE_LIMIT:
        problems.append(
            (
                "value",
                f"{value[:30]!r}… is {len(value)} characters; an option's stored value can "
                f"have at most {OPTION_VALUE_LIMIT} (Slack takes 150 for an option's value, "
                "and 20 of them carry the question's reference): shorten it",
            )
        )
    if len(label) > OPTION_LABEL_LIMIT:
        problems.append(
            (
                "label",
                f"{label[:30]!r}… is {len(label)} characters; an option shows at most "
                f"{OPTION_LABEL_LIMIT} (Slack's limit for a button or a menu option): "
                "shorten it",
            )
        )
    return problems


def _check_question(
    question: Question,
    loc: Location,
    taxonomy: _Taxonomy,
    problem: Callable[[Location, str], None],
) -> tuple[Choice, ...]:
    choices: list[Choice] = []
    if question.is_choice:
        if question.options is None:
            problem(
                (*loc, "options"),
                f"a {question.type} question needs options: a list, or competencies",
            )
        elif question.options == "competencies":
            choices = [Choice(value=c.id, label=c.name) for c in taxonomy.competencies]
        else:
            if not question.options:
                problem((*loc, "options"), "the list of options is empty")
            for i, label in enumerate(question.options):
                if question.options_from == "competencies":
                    competency = taxonomy.competency(label)
                    if competency is None:
                        problem(
                            (*loc, "options", i),
                            f"{label!r} is not a competency; known: {taxonomy.names}",
                        )
                        continue
                    choices.append(Choice(value=competency.id, label=competency.name))
                else:
                    choices.append(Choice(value=label, label=label))
            labels = [c.label.casefold() for c in choices]
            if len(set(labels)) != len(labels):
                problem((*loc, "options"), "an option is listed twice")
            for i, choice in enumerate(choices):
                if question.options_from != "competencies":  # competencies are checked once
                    for _, message in _option_problems(choice.label, choice.value):
                        problem((*loc, "options", i), message)
                if choice.label.strip().isdigit():
                    problem(
                        (*loc, "options", i),
                        f"{choice.label!r} is a bare number, which reads as an option "
                        "number when typed; reword it",
                    )
    elif question.options is not None or question.options_from is not None:
        problem((*loc, "options"), f"a {question.type} question takes no options")

    low, high = question.min, question.max
    if low is not None and high is not None and low > high:
        problem((*loc, "min"), f"min ({low}) is above max ({high})")
    if question.type is QuestionType.SCALE and (low is None or high is None):
        problem(loc, "a scale question needs min and max (e.g. min: 1, max: 5)")
    if question.type is QuestionType.MULTI_CHOICE and choices:
        if high is not None and high > len(choices):
            problem(
                (*loc, "max"), f"max ({high}) is more than the {plural(len(choices), 'option')}"
            )
        if low is not None and low < 0:
            problem((*loc, "min"), "min cannot be negative")
    if question.type in (QuestionType.TEXT, QuestionType.SINGLE_CHOICE, QuestionType.DATE) and (
        low is not None or high is not None
    ):
        problem(loc, f"min and max mean nothing for a {question.type} question; remove them")
    return tuple(choices)
