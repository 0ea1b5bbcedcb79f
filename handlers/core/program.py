"""The program: typed settings loaded from the program file (``app.yaml``).

Loading the file, and turning problems into located messages, is bot/'s job
(``bot.config``); this module only says what a valid program is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, field_validator
from pydantic_core import PydanticCustomError

from storage import Role

SLUG = r"^[a-z][a-z0-9_-]*$"
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
#: Most characters of an option's label: what every channel can show on a button or in a
#: menu (Slack takes 75 for an option's text and a button's).
OPTION_LABEL_LIMIT = 75
#: Most characters of an option's stored value. Slack takes 150 for an option's value,
#: and a chat question's options carry the question's token in front of theirs (see
#: bot.slack.blocks.encode), for which 20 are kept.
OPTION_VALUE_LIMIT = 130


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuestionType(StrEnum):
    """How a question is answered."""

    TEXT = "text"
    SINGLE_CHOICE = "single_choice"
    MULTI_CHOICE = "multi_choice"
    NUMBER = "number"
    SCALE = "scale"
    #: A calendar day, stored as ``YYYY-MM-DD``.
    DATE = "date"


class Meaning(StrEnum):
    """What an answer is used for beyond the record (matching, reports, capacity)."""

    GOALS = "goals"
    COMPETENCIES = "competencies"
    LEARNING_STYLE = "learning_style"
    FORMATS = "formats"
    HOURS_PER_MONTH = "hours_per_month"
    CAPACITY = "capacity"
    BIO = "bio"


class Competency(_Strict):
    """One competency of the taxonomy, tied to a pillar of the leadership strategy."""

    id: Annotated[str, Field(pattern=SLUG)]
    name: Annotated[str, Field(min_length=1)]
    pillar: Annotated[str, Field(min_length=1)]
    description: str = ""


class Choice(_Strict):
    """One option of a choice question: the stored value and the label people see."""

    value: str
    label: str


class Question(_Strict):
    """One question of a questionnaire.

    ``options`` is a list of labels, or the word ``competencies`` for the whole taxonomy.
    With ``options_from: competencies`` the listed labels must be competencies, and the
    stored values are their ids. ``min``/``max`` bound a number or scale, or how many
    options a multiple choice takes.
    """

    id: Annotated[str, Field(pattern=SLUG)]
    prompt: Annotated[str, Field(min_length=1)]
    type: QuestionType
    options: list[str] | Literal["competencies"] | None = None
    options_from: Literal["competencies"] | None = None
    required: bool = True
    min: int | None = None
    max: int | None = None
    help: str | None = None
    meaning: Meaning | None = None

    _choices: tuple[Choice, ...] = PrivateAttr(default=())

    @property
    def choices(self) -> tuple[Choice, ...]:
        """The resolved options of a choice question, in the order they are shown."""
        return self._choices

    @property
    def is_choice(self) -> bool:
        """True for single and multiple choice questions."""
        return self.type in (QuestionType.SINGLE_CHOICE, QuestionType.MULTI_CHOICE)

    def label_of(self, value: str) -> str:
        """The label shown for a stored option value (the value itself if unknown)."""
        for choice in self._choices:
            if choice.value == value:
                return choice.label
        return value


class Intake(_Strict):
    """The intake questionnaire of each role."""

    mentee: list[Question] = Field(min_length=1)
    mentor: list[Question] = Field(min_length=1)

    def for_role(self, role: Role) -> list[Question]:
        """The questions of one role, in order."""
        return self.mentee if role is Role.MENTEE else self.mentor


class WorkingHours(_Strict):
    """When messages may reach people, in their own timezone."""

    start: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "09:00"
    end: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "17:00"
    days: list[Weekday] = Field(
        default_factory=lambda: list[Weekday](["mon", "tue", "wed", "thu", "fri"]), min_length=1
    )


class Cadence(_Strict):
    """The rhythm of a pairing's cycle."""

    cycle_days: Annotated[int, Field(ge=7, le=730)] = 90
    checkin_every_days: Annotated[int, Field(ge=1, le=180)] = 14
    calibration_day: Annotated[int, Field(ge=1, le=365)] = 30
    review_months: list[Annotated[int, Field(ge=1, le=12)]] = Field(
        default_factory=lambda: [3, 6, 9, 12]
    )
    working_hours: WorkingHours = Field(default_factory=WorkingHours)
    escalate_after_missed: Annotated[int, Field(ge=1, le=20)] = 2
    auto_close_after_days: Annotated[int, Field(ge=1, le=730)] = 60
    stale_after_days: Annotated[int, Field(ge=1, le=90)] = 7
    #: A step someone owes (writing the plan, confirming it, answering a survey) is
    #: reminded this many days after it fell to them, and again as often, to whoever owes
    #: it, at most ``max_reminders`` times (0: no such reminders).
    remind_after_days: Annotated[int, Field(ge=1, le=90)] = 5
    max_reminders: Annotated[int, Field(ge=0, le=10)] = 2


class MatchingWeights(_Strict):
    """How much each part of the fit counts.

    They need not add up to 1: matching divides by their total, so each counts as its
    share of it, and ``check-config`` says so (see :func:`program_notes`).
    """

    competencies: Annotated[float, Field(ge=0)] = 0.35
    goals: Annotated[float, Field(ge=0)] = 0.15
    formats: Annotated[float, Field(ge=0)] = 0.1
    timezone: Annotated[float, Field(ge=0)] = 0.15
    cross_function: Annotated[float, Field(ge=0)] = 0.15
    seniority: Annotated[float, Field(ge=0)] = 0.1


def _a_fit(value: float) -> float:
    """A fit as matching scores it, between 0 and 1.

    Raises:
        PydanticCustomError: the value is outside [0, 1], e.g. 40 written for 40 %; the
            schema's own "less than or equal to 1" would not say what a fit looks like.
    """
    if not 0 <= value <= 1:
        raise PydanticCustomError(
            "fit_range",
            "must be a fit between 0 and 1, as a match review shows it (e.g. 0.4 keeps "
            'every pair below "fit 0.40" out of a round)',
        )
    return value


class Matching(_Strict):
    """Matching weights and the rules no proposal may break."""

    weights: MatchingWeights = Field(default_factory=MatchingWeights)
    min_level_gap: Annotated[int, Field(ge=0, le=10)] = 1
    #: The least fit a pair needs to be proposed in a round (0: any fit will do).
    min_fit: Annotated[float, AfterValidator(_a_fit)] = 0.0
    max_timezone_gap_hours: Annotated[int, Field(ge=0, le=26)] = 8
    blind_review: bool = False
    proposal_expiry_days: Annotated[int, Field(ge=1, le=60)] = 7
    #: A mentor who lets this many proposals in a row lapse unanswered is paused as a
    #: mentor (no new proposals until they type ``resume``); 0 never pauses anyone.
    lapses_before_pause: Annotated[int, Field(ge=0, le=10)] = 2


def _scale(qid: str, prompt: str, help: str | None = None) -> Question:
    return Question(id=qid, prompt=prompt, type=QuestionType.SCALE, min=1, max=5, help=help)


def _comment(prompt: str = "Anything you'd like to add?") -> Question:
    return Question(id="comment", prompt=prompt, type=QuestionType.TEXT, required=False)


def _default_pulse() -> list[Question]:
    return [
        _scale("usefulness", "How useful was the session?", "1 = not at all, 5 = very useful"),
        Question(
            id="next_step",
            prompt="Did you leave with a next step?",
            type=QuestionType.SINGLE_CHOICE,
            options=["Yes", "No"],
        ),
        _comment(),
    ]


def _default_calibration() -> list[Question]:
    return [
        _scale("fit", "How well is the pairing working so far?", "1 = not at all, 5 = very well"),
        _comment("What would make it more useful?"),
    ]


def _default_midpoint() -> list[Question]:
    return [
        _scale("progress", "How much progress have you made towards your goals?"),
        _comment("What should change in the second half?"),
    ]


def _default_end() -> list[Question]:
    return [
        _scale("value", "Overall, how valuable was this mentoring cycle?"),
        Question(
            id="recommend",
            prompt="Would you recommend the program to a colleague?",
            type=QuestionType.SINGLE_CHOICE,
            options=["Yes", "Not sure", "No"],
        ),
        _comment("What was the most useful thing?"),
    ]


def _default_readiness() -> list[Question]:
    return [
        _scale("coaching", "Coaching: how well does your mentor help you find your own answers?"),
        _scale("availability", "Availability: how easy is it to get time with your mentor?"),
        _scale(
            "domain_credibility",
            "Domain credibility: how relevant is your mentor's experience to what you want "
            "to learn?",
        ),
    ]


class Surveys(_Strict):
    """The questions of each survey; the same schema as the intake.

    ``pulse`` goes to the other side after a session is logged; ``calibration``,
    ``midpoint`` and ``end_of_cycle`` go to both sides at those moments, and mentees also
    rate their mentor's readiness (``mentor_readiness``) then.
    """

    pulse: list[Question] = Field(default_factory=_default_pulse, min_length=1)
    calibration: list[Question] = Field(default_factory=_default_calibration, min_length=1)
    midpoint: list[Question] = Field(default_factory=_default_midpoint, min_length=1)
    end_of_cycle: list[Question] = Field(default_factory=_default_end, min_length=1)
    mentor_readiness: list[Question] = Field(default_factory=_default_readiness, min_length=1)

    def of(self, survey: str) -> list[Question]:
        """The questions of one survey by name."""
        questions: list[Question] = getattr(self, survey)
        return questions

    def all(self) -> dict[str, list[Question]]:
        """Every survey by name."""
        return {name: self.of(name) for name in SURVEYS}


#: The surveys, in the order a cycle asks them.
SURVEYS = ("pulse", "calibration", "midpoint", "end_of_cycle", "mentor_readiness")


class FeedbackSettings(_Strict):
    """Structured feedback.

    Answers are private: the pair sees each other's only with ``share_with_pair``; leads
    see aggregates.
    """

    share_with_pair: bool = False
    surveys: Surveys = Field(default_factory=Surveys)


class PrivacySettings(_Strict):
    """How long personal data is kept.

    ``retain_notes_days``: session notes and their summaries older than this many days (by
    the day the session was held) are deleted by the scheduler's tick; the session itself
    (date, minutes, topics) stays for the program's figures. None keeps them.
    """

    retain_notes_days: Annotated[int, Field(ge=1)] | None = None


class ProgramInfo(_Strict):
    """Who runs the program and who may take part."""

    id: Annotated[str, Field(pattern=SLUG)]
    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    leads: list[str] = Field(min_length=1)
    roles: list[Role] = Field(default_factory=lambda: [Role.MENTEE, Role.MENTOR], min_length=1)
    default_timezone: str = "UTC"
    min_group_size: Annotated[int, Field(ge=2, le=100)] = 5

    @field_validator("leads")
    @classmethod
    def _leads_are_emails(cls, leads: list[str]) -> list[str]:
        for lead in leads:
            if not EMAIL_RE.match(lead):
                raise ValueError(f"{lead!r} is not an email address; list leads by email")
        return [lead.strip().lower() for lead in leads]


class Program(_Strict):
    """A whole mentorship program as the program file describes it."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    #: The file's ``program:`` section: who runs it and who may take part. Read it through
    #: the properties below (``program.name``, ``program.leads``...).
    info: ProgramInfo = Field(alias="program")
    competencies: list[Competency] = Field(min_length=1)
    intake: Intake
    cadence: Cadence = Field(default_factory=Cadence)
    matching: Matching = Field(default_factory=Matching)
    feedback: FeedbackSettings = Field(default_factory=FeedbackSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)

    @property
    def id(self) -> str:
        """The program's id (a slug), as stored on every enrollment and pairing."""
        return self.info.id

    @property
    def name(self) -> str:
        """The program's name, as people read it."""
        return self.info.name

    @property
    def description(self) -> str:
        """A line or two on what the program is."""
        return self.info.description

    @property
    def leads(self) -> list[str]:
        """The program leads' emails, lower case."""
        return self.info.leads

    @property
    def roles(self) -> list[Role]:
        """The roles people may join with."""
        return self.info.roles

    @property
    def default_timezone(self) -> str:
        """The timezone of anyone whose own is not known."""
        return self.info.default_timezone

    @property
    def min_group_size(self) -> int:
        """The smallest group a report shows figures for."""
        return self.info.min_group_size

    def competency(self, key: str) -> Competency | None:
        """The competency with this id or name (names compare case-insensitively)."""
        wanted = key.strip().casefold()
        for competency in self.competencies:
            if competency.id == key or competency.name.casefold() == wanted:
                return competency
        return None

    def is_lead(self, email: str) -> bool:
        """True when this email belongs to a program lead."""
        return email.strip().lower() in self.leads


Location = tuple[str | int, ...]


class Problem(BaseModel):
    """One thing wrong with a program file: where it is and what would fix it."""

    model_config = ConfigDict(frozen=True)

    loc: Location
    message: str


def _known(names: list[str]) -> str:
    return ", ".join(names)


def check_program(program: Program) -> list[Problem]:
    """Cross-field rules a schema cannot express; resolves choice options as it goes.

    Returns:
        Every problem found, empty when the program is sound. Choice options are
        resolved on the questions only when there are no problems.
    """
    problems: list[Problem] = []
    names = [c.name for c in program.competencies]

    def problem(loc: Location, message: str) -> None:
        problems.append(Problem(loc=loc, message=message))

    seen_ids: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    for i, competency in enumerate(program.competencies):
        if competency.id in seen_ids:
            problem(("competencies", i, "id"), f"{competency.id!r} is used twice")
        if competency.name.casefold() in seen_names:
            problem(("competencies", i, "name"), f"{competency.name!r} is used twice")
        seen_ids[competency.id] = i
        seen_names[competency.name.casefold()] = i
        # A competency is an option of the questions that offer competencies.
        for part, message in _option_problems(competency.name, competency.id):
            problem(("competencies", i, "name" if part == "label" else "id"), message)

    resolved: dict[tuple[str, int], tuple[Choice, ...]] = {}
    for role in (Role.MENTEE, Role.MENTOR):
        questions = program.intake.for_role(role)
        question_ids: set[str] = set()
        for index, question in enumerate(questions):
            loc: Location = ("intake", role.value, index)
            if question.id in question_ids:
                problem((*loc, "id"), f"question id {question.id!r} is used twice in {role}")
            question_ids.add(question.id)
            choices = _check_question(question, loc, program, names, problem)
            resolved[(role.value, index)] = choices
        meanings = [q.meaning for q in questions if q.meaning is not None]
        for meaning in set(meanings):
            if meanings.count(meaning) > 1:
                problem(("intake", role.value), f"only one question may have meaning {meaning}")
        competency_questions = [q for q in questions if q.meaning is Meaning.COMPETENCIES]
        for q in competency_questions:
            if q.options_from != "competencies" and q.options != "competencies":
                problem(
                    ("intake", role.value, questions.index(q), "options"),
                    "a question with meaning 'competencies' must offer competencies: "
                    "set options: competencies (or options_from: competencies)",
                )
        if not competency_questions:
            what = "want to develop" if role is Role.MENTEE else "can help with"
            problem(
                ("intake", role.value),
                f"no question asks which competencies {role}s {what}; add a multi_choice "
                "question with options: competencies and meaning: competencies",
            )
    for survey, questions in program.feedback.surveys.all().items():
        ids: set[str] = set()
        for index, question in enumerate(questions):
            loc = ("feedback", "surveys", survey, index)
            if question.id in ids:
                problem((*loc, "id"), f"question id {question.id!r} is used twice in {survey}")
            ids.add(question.id)
            if question.meaning is not None:
                problem((*loc, "meaning"), "survey questions take no meaning; remove it")
            resolved[(f"feedback:{survey}", index)] = _check_question(
                question, loc, program, names, problem
            )
    capacity = [q for q in program.intake.mentor if q.meaning is Meaning.CAPACITY]
    if not capacity:
        problem(
            ("intake", "mentor"),
            "no question asks mentors how many mentees they can take; add a number question "
            "with meaning: capacity (e.g. min: 1, max: 5)",
        )
    elif capacity[0].type is not QuestionType.NUMBER or (capacity[0].min or 0) < 1:
        problem(
            ("intake", "mentor", program.intake.mentor.index(capacity[0])),
            "the capacity question must be type: number with min: 1 or more",
        )

    cadence = program.cadence
    if cadence.calibration_day >= cadence.cycle_days:
        problem(
            ("cadence", "calibration_day"),
            f"must come before the end of the cycle (cycle_days is {cadence.cycle_days})",
        )
    if cadence.checkin_every_days >= cadence.cycle_days:
        problem(
            ("cadence", "checkin_every_days"),
            f"must be shorter than the cycle (cycle_days is {cadence.cycle_days})",
        )
    hours = cadence.working_hours
    if hours.start >= hours.end:
        problem(("cadence", "working_hours"), f"start {hours.start} must be before end {hours.end}")
    if sum(program.matching.weights.model_dump().values()) <= 0:
        problem(("matching", "weights"), "at least one weight must be above 0")
    if not _is_timezone(program.default_timezone):
        problem(
            ("program", "default_timezone"),
            f"{program.default_timezone!r} is not an IANA timezone "
            "(e.g. Europe/Berlin, America/New_York, UTC)",
        )

    if not problems:
        for (owner, index), choices in resolved.items():
            if owner.startswith("feedback:"):
                questions = program.feedback.surveys.of(owner.removeprefix("feedback:"))
            else:
                questions = program.intake.for_role(Role(owner))
            questions[index]._choices = choices
    return problems


def program_notes(program: Program) -> list[Problem]:
    """What a sound program file means that its author may not expect.

    Weights that do not add up to 1 are normalised, not refused: matching has always
    scored with each weight's share of the total, and relative weights ("3, 1, 1") are a
    natural way to write them; refusing would break working files for no gain. But a
    typo (0.9 for 0.09) would silently shift every match, so the note spells out the
    share each part really gets.
    """
    weights = program.matching.weights.model_dump()
    total = sum(weights.values())
    if total <= 0 or abs(total - 1) < 1e-6:
        return []
    shares = ", ".join(f"{name} {value / total:.0%}" for name, value in weights.items())
    return [
        Problem(
            loc=("matching", "weights"),
            message=(
                f"add up to {total:g}, not 1; normalised, so each counts as its share of "
                f"the total: {shares}"
            ),
        )
    ]


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
    program: Program,
    names: list[str],
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
            choices = [Choice(value=c.id, label=c.name) for c in program.competencies]
        else:
            if not question.options:
                problem((*loc, "options"), "the list of options is empty")
            for i, label in enumerate(question.options):
                if question.options_from == "competencies":
                    competency = program.competency(label)
                    if competency is None:
                        problem(
                            (*loc, "options", i),
                            f"{label!r} is not a competency; known: {_known(names)}",
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
            problem((*loc, "max"), f"max ({high}) is more than the {len(choices)} options")
        if low is not None and low < 0:
            problem((*loc, "min"), "min cannot be negative")
    if question.type in (QuestionType.TEXT, QuestionType.SINGLE_CHOICE, QuestionType.DATE) and (
        low is not None or high is not None
    ):
        problem(loc, f"min and max mean nothing for a {question.type} question; remove them")
    return tuple(choices)
