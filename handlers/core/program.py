"""The program: typed settings loaded from the program file (``app.yaml``).

Loading the file, and turning problems into located messages, is bot/'s job
(``bot.config``); this module only says what a valid program is.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from handlers.core.refs import MAX_STORED_NUMBER, MIN_STORED_NUMBER
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
    #: What a peer can help others with (competencies), as ``competencies`` is what they
    #: want to develop.
    STRENGTHS = "strengths"


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


def _storable(value: int, info: ValidationInfo) -> int:
    """A question's ``min`` or ``max``: within what an answer is stored in.

    Raises:
        PydanticCustomError: no stored answer (an INTEGER column on PostgreSQL) could
            reach it.
    """
    if not MIN_STORED_NUMBER <= value <= MAX_STORED_NUMBER:
        raise PydanticCustomError(
            "stored_number",
            f"answers are stored as whole numbers from {MIN_STORED_NUMBER:,} to "
            f"{MAX_STORED_NUMBER:,}; keep {info.field_name} within them",
        )
    return value


#: A question's ``min`` or ``max``.
_Bound = Annotated[int, AfterValidator(_storable)] | None


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
    min: _Bound = None
    max: _Bound = None
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
    """The intake questionnaire of each role a program takes.

    One-to-one and reverse programs ask ``mentee`` and ``mentor``; a peer program asks
    ``peer`` only (``check_program_file`` says which one a program is missing).
    """

    mentee: list[Question] | None = Field(default=None, min_length=1)
    mentor: list[Question] | None = Field(default=None, min_length=1)
    peer: list[Question] | None = Field(default=None, min_length=1)

    def for_role(self, role: Role) -> list[Question]:
        """The questions of one role, in order (none for a role the intake does not ask)."""
        questions = {Role.MENTEE: self.mentee, Role.MENTOR: self.mentor, Role.PEER: self.peer}
        return questions[role] or []

    @property
    def roles(self) -> list[Role]:
        """The roles this intake has a questionnaire for."""
        return [role for role in Role if self.for_role(role)]


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


#: The largest weight: the weights count as their shares of the total, so 0.35 and 35
#: (with the others alike) do the same; a bound keeps the total finite.
MAX_WEIGHT = 100


def _a_weight(value: float) -> float:
    """A weight from 0 to :data:`MAX_WEIGHT`.

    Raises:
        PydanticCustomError: negative, too large, infinite or not a number (YAML's
            ``.inf``, ``.nan``), which would make every fit "not a number".
    """
    if not 0 <= value <= MAX_WEIGHT:
        raise PydanticCustomError(
            "weight_range",
            f"must be a weight from 0 to {MAX_WEIGHT}; only each weight's share of their "
            "total counts (0.35 or 35, with the others alike)",
        )
    return value


_Weight = Annotated[float, AfterValidator(_a_weight)]


class MatchingWeights(_Strict):
    """How much each part of the fit counts.

    They need not add up to 1: matching divides by their total, so each counts as its
    share of it, and ``check-config`` says so (see :func:`program_notes`).
    """

    competencies: _Weight = 0.35
    goals: _Weight = 0.15
    formats: _Weight = 0.1
    timezone: _Weight = 0.15
    cross_function: _Weight = 0.15
    seniority: _Weight = 0.1


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
    #: One-to-one: a mentor is at least this many levels above the mentee to score fully
    #: on seniority; reverse: at least this many below.
    min_level_gap: Annotated[int, Field(ge=0, le=10)] = 1
    #: Peer programs: the most levels apart two peers may be.
    max_level_gap: Annotated[int, Field(ge=0, le=20)] = 1
    #: The least fit a pair needs to be proposed in a round (0: any fit will do).
    min_fit: Annotated[float, AfterValidator(_a_fit)] = 0.0
    max_timezone_gap_hours: Annotated[int, Field(ge=0, le=26)] = 8
    blind_review: bool = False
    proposal_expiry_days: Annotated[int, Field(ge=1, le=60)] = 7
    #: A mentor who lets this many proposals in a row lapse unanswered is paused as a
    #: mentor (no new proposals until they type ``resume``); 0 never pauses anyone.
    lapses_before_pause: Annotated[int, Field(ge=0, le=10)] = 2


class CircleSize(_Strict):
    """How many members a circle has, its facilitator not counted (``min`` <= ``max``)."""

    min: Annotated[int, Field(ge=2, le=50)] = 3
    max: Annotated[int, Field(ge=2, le=50)] = 6


class Circles(_Strict):
    """How a ``type: circles`` program forms its circles.

    Mentors facilitate (``facilitators: mentor``), each up to ``capacity`` circles at once
    unless their intake's capacity answer says otherwise; ``solve_seconds`` bounds the
    optimiser's search (it reports how close to the best possible it got).
    """

    size: CircleSize = Field(default_factory=CircleSize)
    facilitators: Literal["mentor"] = "mentor"
    capacity: Annotated[int, Field(ge=0, le=20)] = 1
    solve_seconds: Annotated[float, Field(gt=0, le=600)] = 20.0


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


#: The shortest and longest ``privacy.retain_messages_days``. A message's row is also what
#: stops it being queued twice (its dedupe key); a lapse reminder is only due within nine
#: days of its proposal's lapse, so a month keeps every such key past its moment.
MESSAGE_DAYS = (30, 3650)
#: The shortest and longest ``privacy.retain_notes_days``: beyond ten years, null says
#: "keep them" (and a day count far enough back is before any date there is).
NOTES_DAYS = (1, 3650)


class PrivacySettings(_Strict):
    """How long personal data is kept.

    ``retain_notes_days``: session notes and their summaries older than this many days (by
    the day the session was held) are deleted by the scheduler's tick; the session itself
    (date, minutes, topics) stays for the program's figures. None keeps them.

    ``retain_messages_days``: messages the outbox is done with (sent, failed, undeliverable)
    are deleted this many days after they went out (or were queued, if they never did),
    except those about a pairing still open (see handlers.core.outbox.expire_messages).
    None keeps them.
    """

    retain_notes_days: int | None = None
    retain_messages_days: int | None = 90

    @field_validator("retain_notes_days")
    @classmethod
    def _notes_kept_a_day_to_ten_years(cls, days: int | None) -> int | None:
        shortest, longest = NOTES_DAYS
        if days is not None and not shortest <= days <= longest:
            raise PydanticCustomError(
                "notes_days",
                f"keep notes between {shortest} and {longest} days; leave it out, or write "
                "null, to keep them as long as the pairing's records",
            )
        return days

    @field_validator("retain_messages_days")
    @classmethod
    def _messages_kept_a_month_to_ten_years(cls, days: int | None) -> int | None:
        shortest, longest = MESSAGE_DAYS
        if days is not None and not shortest <= days <= longest:
            raise PydanticCustomError(
                "message_days",
                f"keep messages between {shortest} and {longest} days; leave it out for 90, "
                "or write null to keep them all",
            )
        return days


class ProgramType(StrEnum):
    """How a program brings people together."""

    #: A more experienced mentor and a mentee (today's pairs).
    ONE_TO_ONE = "one_to_one"
    #: The mentor is more junior than the mentee (e.g. juniors mentoring executives on
    #: technology and culture).
    REVERSE = "reverse"
    #: People of a similar level, each enrolled as ``peer``, paired with each other.
    PEER = "peer"
    #: A facilitator (role ``mentor``) and a small group of members (role ``mentee``).
    CIRCLES = "circles"


#: The roles of each program type, in the order ``join`` offers them.
ROLES_OF_TYPE: dict[ProgramType, tuple[Role, ...]] = {
    ProgramType.ONE_TO_ONE: (Role.MENTEE, Role.MENTOR),
    ProgramType.REVERSE: (Role.MENTEE, Role.MENTOR),
    ProgramType.PEER: (Role.PEER,),
    ProgramType.CIRCLES: (Role.MENTEE, Role.MENTOR),
}


def _listed(value: object) -> object:
    """One value written alone (``department: Sales``) as a list of one."""
    return (
        [value] if isinstance(value, str | int | float) and not isinstance(value, bool) else value
    )


class LevelRange(_Strict):
    """The levels a role is open to, both ends included."""

    min: Annotated[int, Field(ge=0, le=100)] | None = None
    max: Annotated[int, Field(ge=0, le=100)] | None = None


class Rules(_Strict):
    """Who may join, on the directory's fields and imported attributes.

    Every rule given must hold; within one rule any listed value will do. Text compares
    case-insensitively; ``title`` matches a title that contains the text ("Engineer"
    matches "Senior Engineer"); ``manager: true`` means people with reports.
    """

    department: Annotated[list[str], BeforeValidator(_listed)] | None = None
    level: LevelRange | None = None
    location: Annotated[list[str], BeforeValidator(_listed)] | None = None
    title: Annotated[list[str], BeforeValidator(_listed)] | None = None
    manager: bool | None = None
    attributes: dict[str, Annotated[list[str], BeforeValidator(_listed)]] = Field(
        default_factory=dict
    )

    @field_validator("attributes", mode="before")
    @classmethod
    def _values_as_text(cls, value: object) -> object:
        # YAML reads `hipo: yes` as True and `band: 3` as 3; imported columns are text.
        if isinstance(value, dict):
            return {key: _as_text(item) for key, item in value.items()}
        return value


def _as_text(value: object) -> object:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return [_as_text(item) for item in value]
    return value


class Eligibility(Rules):
    """Who may join a program: rules for every role, and rules per role on top.

    ``invite_only`` opens the program only to people a lead invites (``invite``).
    """

    invite_only: bool = False
    mentee: Rules | None = None
    mentor: Rules | None = None
    peer: Rules | None = None

    def for_role(self, role: Role) -> list[Rules]:
        """The rule sets that must all hold for someone joining in ``role``."""
        own = {Role.MENTEE: self.mentee, Role.MENTOR: self.mentor, Role.PEER: self.peer}[role]
        return [self] if own is None else [self, own]


#: The first and last day a cohort date may be: every step of a cycle is counted in days
#: from them, so a date near the calendar's end (9999) would leave no day to count to.
COHORT_DATES = (date(2000, 1, 1), date(2999, 12, 31))


class Cohort(_Strict):
    """A program whose people enrol in a window and start together.

    ``join`` works from ``enrol_from`` (any time before, when not given) to
    ``enrol_until``, both days included; ``match`` runs from ``enrol_until``; every
    pairing's cycle starts on ``starts`` (or the day it is accepted, if later).
    """

    enrol_from: date | None = None
    enrol_until: date
    starts: date


class Program(_Strict):
    """One program, with the shared settings and its own overrides resolved.

    Built from the program file by ``handlers.core.program_file``; every journey reads
    the program of the enrollment or pairing at hand (see :class:`handlers.core.programs.Programs`).
    """

    id: Annotated[str, Field(pattern=SLUG)]
    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    type: ProgramType = ProgramType.ONE_TO_ONE
    #: Who runs it: its own leads and the global ones, lower case.
    leads: list[str] = Field(default_factory=list)
    #: The global leads among ``leads`` (they see every program).
    global_leads: list[str] = Field(default_factory=list)
    roles: list[Role] = Field(default_factory=lambda: [Role.MENTEE, Role.MENTOR], min_length=1)
    eligibility: Eligibility = Field(default_factory=Eligibility)
    cohort: Cohort | None = None
    competencies: list[Competency] = Field(min_length=1)
    intake: Intake
    cadence: Cadence = Field(default_factory=Cadence)
    matching: Matching = Field(default_factory=Matching)
    #: How circles are formed; set for (and only for) a ``type: circles`` program.
    circles: Circles | None = None
    feedback: FeedbackSettings = Field(default_factory=FeedbackSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    default_timezone: str = "UTC"
    min_group_size: Annotated[int, Field(ge=2, le=100)] = 5
    #: A program no longer in the file: its history stays and reports run, nobody joins.
    archived: bool = False

    @property
    def invite_only(self) -> bool:
        """True when only people a lead invites may join."""
        return self.eligibility.invite_only

    def competency(self, key: str) -> Competency | None:
        """The competency with this id or name (names compare case-insensitively)."""
        wanted = key.strip().casefold()
        for competency in self.competencies:
            if competency.id == key or competency.name.casefold() == wanted:
                return competency
        return None

    def is_lead(self, email: str) -> bool:
        """True when this email belongs to one of the program's leads (or a global lead)."""
        return email.strip().lower() in self.leads
