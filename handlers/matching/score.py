"""Matching: who could mentor whom, how well, why, and the best pairing of the whole pool.

A round of matching looks at everyone at once. It loads the pool (mentees waiting for a
match, mentors with free places), scores every mentee–mentor pair from the weighted parts
in ``matching.weights``, forbids every pair a hard rule forbids, and hands the scores to
:func:`solve`, which matches as many mentees as possible and, among those pairings, finds
the greatest total fit. Each proposal carries its score and its top reasons in plain words;
each mentee left over is told why.

The hard rules (never broken):

* a mentor takes no more mentees than their capacity minus their open pairings;
* never the mentee's manager or anyone above them, nor anyone below them;
* never themselves;
* never two people who were paired before, or whose proposal was declined;
* never further apart than ``max_timezone_gap_hours``;
* nobody paused (paused enrollments are not in the pool at all).

Nor is a pair proposed whose fit is below ``matching.min_fit``; a mentee left over for
that reason is told so. A proposal whose mentor offers none of the competencies its
mentee wants is marked weak, for the lead to look at twice.

A proposal that lapsed (nobody answered in time) is not a decline: the pair may be
proposed again, but only after the mentee's other options. Its score is pushed below every
other allowed pair's (see :data:`LAPSED_AT_MOST`), and its explanation says it lapsed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.calendar import clock_time
from handlers.core.program import Meaning, Program, Question
from handlers.matching.solver import solve
from storage import (
    OPEN_PAIRING,
    Enrollment,
    EnrollmentStatus,
    Pairing,
    PairingStatus,
    Person,
    Role,
)

__all__ = [
    "MatchPlan",
    "Profile",
    "Proposal",
    "Reason",
    "Waiting",
    "load_pool",
    "plan_matches",
    "shown_fit",
    "solve",
]

#: The most a long wait adds to a mentee's scores: enough to put the longest-waiting first
#: when fits tie closely, too little to trade a clearly better fit for it.
WAIT_PRIORITY = 0.02
#: Parts in the order explanations list them when they count equally.
PARTS = ("competencies", "goals", "formats", "timezone", "cross_function", "seniority")
#: Goal fit: cosine similarity at which the part counts fully (TF-IDF cosines of short,
#: different texts rarely go above this).
GOAL_FULL_AT = 0.5
#: When a pool holds pairs whose proposal lapsed, the solver sees those pairs' scores
#: squeezed into [0, LAPSED_AT_MOST] and every other allowed pair's into
#: [OTHERS_AT_LEAST, 1]. Among pairings that match as many mentees, moving a mentee from a
#: lapsed mentor to another mentor with a free place always gains, so a lapsed pair is
#: proposed only when no other mentor with a free place is left for the mentee.
LAPSED_AT_MOST = 0.25
OTHERS_AT_LEAST = 0.5


@dataclass(frozen=True)
class Profile:
    """One side of a possible pairing: the person and what their intake said.

    Attributes:
        person_id: The directory person.
        role: ``mentee`` or ``mentor``.
        competencies: Competency ids a mentee wants to develop, or a mentor's strengths.
        formats: Formats wanted (mentee) or offered (mentor).
        text: Goals (mentee), or bio (mentor): what goal fit compares.
        free: A mentor's free places (capacity minus open pairings); 0 for mentees.
        waiting_since: Since when a mentee has waited for a match.
    """

    person_id: int
    name: str
    email: str
    role: Role
    department: str | None
    title: str | None
    level: int | None
    timezone: str
    competencies: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    text: str = ""
    free: int = 0
    capacity: int = 0
    waiting_since: datetime | None = None
    answers: dict[str, Any] = field(default_factory=dict)

    @property
    def first_name(self) -> str:
        """The name people are addressed by."""
        return self.name.split()[0] if self.name else self.email


@dataclass(frozen=True)
class Reason:
    """One reason a pair fits, worded for each reader.

    Attributes:
        part: Which weighted part it comes from (``competencies``, ``timezone``, ...).
        points: What the part added to the score (weight × part score / total weight).
        mentee: The reason as the mentee reads it.
        mentor: The reason as the mentor reads it.
        lead: The reason as the program lead reads it.
    """

    part: str
    points: float
    mentee: str
    mentor: str
    lead: str

    def as_dict(self) -> dict[str, Any]:
        """The reason as stored with the pairing."""
        return {
            "part": self.part,
            "points": round(self.points, 4),
            "mentee": self.mentee,
            "mentor": self.mentor,
            "lead": self.lead,
        }


@dataclass(frozen=True)
class Proposal:
    """A mentee and the mentor the round found for them.

    Attributes:
        weak: Why the lead should look twice before approving it (the mentor offers none
            of the competencies the mentee wants), or None; worded without names.
    """

    mentee: Profile
    mentor: Profile
    score: float
    reasons: tuple[Reason, ...]
    weak: str | None = None


@dataclass(frozen=True)
class Waiting:
    """A mentee the round could not match, and why, in words.

    Attributes:
        below_min_fit: True when mentors had a place the rules allowed, but every one of
            them fits the mentee below ``matching.min_fit``.
    """

    mentee: Profile
    why: str
    below_min_fit: bool = False


@dataclass
class Pool:
    """Everyone a matching round considers, and what it must respect.

    Attributes:
        mentees: Mentees waiting for a match, longest-waiting first.
        mentors: Mentors available in the program, whether or not they have free places.
        together: (mentee, mentor) person ids kept apart for good: paired before, or a
            proposal declined.
        managers: Each person's manager (person id to person id).
        paused_mentors: How many enrolled mentors are paused.
        lapsed: (mentee, mentor) person ids whose proposal lapsed unanswered, and not kept
            apart otherwise: allowed, after the mentee's other options.
    """

    mentees: list[Profile]
    mentors: list[Profile]
    together: set[tuple[int, int]]
    managers: dict[int, int | None]
    paused_mentors: int = 0
    lapsed: set[tuple[int, int]] = field(default_factory=set)


@dataclass
class MatchPlan:
    """What a matching round proposes.

    Attributes:
        proposals: The pairings found, best fit first.
        waiting: The mentees left unmatched, with why.
        problem: Why nothing at all could be proposed, when that is the case.
        mentees: How many mentees were in the pool.
        mentors: How many mentors had free places.
    """

    proposals: list[Proposal]
    waiting: list[Waiting]
    problem: str | None = None
    mentees: int = 0
    mentors: int = 0


def _by_meaning(questions: Sequence[Question]) -> dict[Meaning, str]:
    return {q.meaning: q.id for q in questions if q.meaning is not None}


def _as_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    if isinstance(value, str) and value:
        return (value,)
    return ()


def _profile(
    program: Program,
    person: Person,
    enrollment: Enrollment | None,
    *,
    role: Role,
    taken: int = 0,
) -> Profile:
    """A person's side of a pairing (with no enrollment: the directory's facts only)."""
    meanings = _by_meaning(program.intake.for_role(role))
    answers = (enrollment.answers if enrollment else None) or {}

    def answer(meaning: Meaning) -> Any:
        key = meanings.get(meaning)
        return answers.get(key) if key else None

    assert person.id is not None
    text_meaning = Meaning.GOALS if role is Role.MENTEE else Meaning.BIO
    capacity = (enrollment.capacity if enrollment else None) or 0
    return Profile(
        person_id=person.id,
        name=person.name,
        email=person.email,
        role=role,
        department=person.department,
        title=person.title,
        level=person.level,
        timezone=person.timezone or program.default_timezone,
        competencies=_as_tuple(answer(Meaning.COMPETENCIES)),
        formats=_as_tuple(answer(Meaning.FORMATS)),
        text=str(answer(text_meaning) or ""),
        free=max(0, capacity - taken) if role is Role.MENTOR else 0,
        capacity=capacity,
        waiting_since=(enrollment.waiting_since or enrollment.enrolled_at) if enrollment else None,
        answers=dict(answers),
    )


async def load_pool(session: AsyncSession, program: Program) -> Pool:
    """Everyone the next matching round considers, read in a handful of queries."""
    program_id = program.id
    open_statuses = [s.value for s in OPEN_PAIRING]
    pairings = (await session.exec(select(Pairing).where(Pairing.program == program_id))).all()
    # A proposal a program lead lifted (``unexclude``) keeps nobody apart.
    kept = [p for p in pairings if p.unexcluded_at is None]
    together = {(p.mentee_id, p.mentor_id) for p in kept if p.status != PairingStatus.EXPIRED}
    lapsed = {(p.mentee_id, p.mentor_id) for p in kept if p.status == PairingStatus.EXPIRED}
    lapsed -= together
    busy_mentees = {p.mentee_id for p in pairings if p.status in open_statuses}
    taken: dict[int, int] = {}
    for pairing in pairings:
        if pairing.status in open_statuses:
            taken[pairing.mentor_id] = taken.get(pairing.mentor_id, 0) + 1
    rows = (
        await session.exec(
            select(Enrollment, Person)
            .join(Person, Person.id == Enrollment.person_id)  # type: ignore[arg-type]
            .where(
                Enrollment.program == program_id,
                sa.or_(
                    sa.and_(
                        Enrollment.role == Role.MENTEE.value,  # type: ignore[arg-type]
                        Enrollment.status == EnrollmentStatus.WAITING.value,  # type: ignore[arg-type]
                    ),
                    sa.and_(
                        Enrollment.role == Role.MENTOR.value,  # type: ignore[arg-type]
                        Enrollment.status.in_(  # type: ignore[attr-defined]
                            [EnrollmentStatus.AVAILABLE.value, EnrollmentStatus.PAUSED.value]
                        ),
                    ),
                ),
            )
        )
    ).all()
    mentees: list[Profile] = []
    mentors: list[Profile] = []
    paused = 0
    for enrollment, person in rows:
        assert person.id is not None
        if enrollment.status == EnrollmentStatus.PAUSED:
            paused += 1
        elif enrollment.role == Role.MENTEE.value:
            if person.id not in busy_mentees:
                mentees.append(_profile(program, person, enrollment, role=Role.MENTEE))
        else:
            mentors.append(
                _profile(
                    program, person, enrollment, role=Role.MENTOR, taken=taken.get(person.id, 0)
                )
            )
    mentees.sort(key=lambda p: (p.waiting_since or datetime.max.replace(tzinfo=UTC), p.person_id))
    mentors.sort(key=lambda p: p.person_id)
    managers = await load_managers(session)
    return Pool(
        mentees=mentees,
        mentors=mentors,
        together=together,
        managers=managers,
        paused_mentors=paused,
        lapsed=lapsed,
    )


async def load_managers(session: AsyncSession) -> dict[int, int | None]:
    """Each directory person's manager, by person id: the management chains."""
    result = await session.exec(select(Person.id, Person.manager_id))
    return {int(pid): mid for pid, mid in result.all() if pid is not None}


# --- scoring -------------------------------------------------------------------------------


def _offset_hours(zone: str, at: datetime) -> float:
    offset = at.astimezone(ZoneInfo(zone)).utcoffset()
    return (offset or timedelta()).total_seconds() / 3600


def _window(zone: str, day: date, start: time, end: time) -> tuple[float, float]:
    """A working day in ``zone`` as hours since the epoch (UTC), so windows compare."""
    tz = ZoneInfo(zone)
    begin = datetime.combine(day, start, tzinfo=tz).timestamp() / 3600
    finish = datetime.combine(day, end, tzinfo=tz).timestamp() / 3600
    return begin, finish


def shared_hours(program: Program, first: str, second: str, at: datetime) -> float:
    """Hours of working time two timezones share on the working day around ``at``.

    The second person's day before and after are tried too, so that Auckland and Los
    Angeles, whose calendar days differ, still find the hours they share.
    """
    hours = program.cadence.working_hours
    start, end = clock_time(hours.start), clock_time(hours.end)
    day = at.astimezone(ZoneInfo(first)).date()
    begin, finish = _window(first, day, start, end)
    best = 0.0
    for shift in (-1, 0, 1):
        other_begin, other_finish = _window(second, day + timedelta(days=shift), start, end)
        best = max(best, min(finish, other_finish) - max(begin, other_begin))
    return max(0.0, best)


def timezone_gap(first: str, second: str, at: datetime) -> float:
    """How many hours apart two timezones are at ``at`` (going round the date line)."""
    gap = abs(_offset_hours(first, at) - _offset_hours(second, at)) % 24
    return min(gap, 24 - gap)


def _ancestors(person_id: int, managers: dict[int, int | None]) -> set[int]:
    seen: set[int] = set()
    current = managers.get(person_id)
    while current is not None and current not in seen and current != person_id:
        seen.add(current)
        current = managers.get(current)
    return seen


@dataclass
class Scores:
    """Every part of the fit, for every mentee (rows) and mentor (columns).

    Attributes:
        parts: Part name to an array of part scores in [0, 1].
        total: The weighted fit in [0, 1].
        allowed: False where a hard rule forbids the pair.
        blocked: For each pair, the index in RULES of the first rule that forbids it
            (0: allowed).
        goal_vectors: The TF-IDF vectors of mentees' goals and mentors' texts, and the
            words they stand for (None when every text was empty).
        lapsed: True where an allowed pair's earlier proposal lapsed unanswered.
    """

    parts: dict[str, npt.NDArray[np.float64]]
    total: npt.NDArray[np.float64]
    allowed: npt.NDArray[np.bool_]
    blocked: npt.NDArray[np.int8]
    goal_vectors: tuple[Any, Any, list[str]]
    lapsed: npt.NDArray[np.bool_]

    def goal_terms(self, row: int, column: int, top: int = 3) -> list[str]:
        """The words a mentee's goals and a mentor's text share most, strongest first."""
        left, right, terms = self.goal_vectors
        if left is None or self.parts["goals"][row, column] <= 0:
            return []
        product = left[row].multiply(right[column]).tocsr()
        order = np.argsort(-product.data, kind="stable")[:top]
        return [terms[int(product.indices[k])] for k in order]


def _competency_text(program: Program, ids: Iterable[str]) -> str:
    parts = []
    for key in ids:
        competency = program.competency(key)
        if competency is not None:
            parts.append(f"{competency.name} {competency.description}")
    return " ".join(parts)


def _goal_similarity(
    program: Program, mentees: Sequence[Profile], mentors: Sequence[Profile]
) -> tuple[npt.NDArray[np.float64], Any, list[str], Any]:
    """TF-IDF cosine between each mentee's goals and each mentor's bio and strengths."""
    # Imported here: scikit-learn takes a second to import, and most commands never match.
    from sklearn.feature_extraction.text import TfidfVectorizer

    mentee_texts = [m.text for m in mentees]
    mentor_texts = [f"{m.text} {_competency_text(program, m.competencies)}" for m in mentors]
    vectorizer = TfidfVectorizer(
        stop_words="english", sublinear_tf=True, token_pattern=r"[a-z]{3,}"
    )
    try:
        matrix = vectorizer.fit_transform(mentee_texts + mentor_texts)
    except ValueError:  # every text empty or only stop words
        return np.zeros((len(mentees), len(mentors))), None, [], None
    left, right = matrix[: len(mentees)], matrix[len(mentees) :]
    similarity = np.asarray((left @ right.T).todense(), dtype=np.float64)
    return similarity, left, list(vectorizer.get_feature_names_out()), right


#: The hard rules a pair can break, in the order they are reported (index 0: none).
RULES = ("", "self", "chain", "before", "timezone")


def _share_offered(
    wanted: Sequence[Sequence[str]], offered: Sequence[Sequence[str]], *, unknown: float
) -> npt.NDArray[np.float64]:
    """For each pair, the share of what one side wants that the other offers."""
    catalogue = sorted({x for items in [*wanted, *offered] for x in items})
    index = {key: k for k, key in enumerate(catalogue)}

    def marks(lists: Sequence[Sequence[str]]) -> npt.NDArray[np.float64]:
        table = np.zeros((len(lists), len(catalogue)))
        for row, items in enumerate(lists):
            for item in items:
                table[row, index[item]] = 1.0
        return table

    want, offer = marks(wanted), marks(offered)
    count = want.sum(axis=1, keepdims=True)
    return np.where(count > 0, (want @ offer.T) / np.maximum(count, 1), unknown)


def score_pool(program: Program, pool: Pool, now: datetime) -> Scores:
    """Score every mentee–mentor pair of the pool and apply the hard rules."""
    mentees, mentors = pool.mentees, pool.mentors
    n, m = len(mentees), len(mentors)
    rules = program.matching
    known = {c.id for c in program.competencies}
    competencies = _share_offered(
        [[k for k in p.competencies if k in known] for p in mentees],
        [[k for k in p.competencies if k in known] for p in mentors],
        unknown=0.5,
    )

    similarity, left, terms, right = _goal_similarity(program, mentees, mentors)
    goals = np.minimum(1.0, similarity / GOAL_FULL_AT)

    formats = _share_offered(
        [m.formats for m in mentees], [m.formats for m in mentors], unknown=0.5
    )

    hours = program.cadence.working_hours
    day_length = max(
        0.25,
        (
            datetime.combine(date.min, clock_time(hours.end))
            - datetime.combine(date.min, clock_time(hours.start))
        ).total_seconds()
        / 3600,
    )
    # Every quantity that depends only on the two timezones is computed once per pair of
    # zones, then spread over the pairs of people by fancy indexing.
    zones = sorted({p.timezone for p in [*mentees, *mentors]})
    zone_of = {zone: k for k, zone in enumerate(zones)}
    overlap = np.array([[shared_hours(program, a, b, now) for b in zones] for a in zones])
    gap = np.array([[timezone_gap(a, b, now) for b in zones] for a in zones])
    rows = np.array([zone_of[p.timezone] for p in mentees], dtype=np.intp)[:, None]
    columns = np.array([zone_of[p.timezone] for p in mentors], dtype=np.intp)[None, :]
    timezone = np.minimum(1.0, overlap[rows, columns] / day_length) if n and m else np.zeros((n, m))

    def codes(profiles: Sequence[Profile]) -> npt.NDArray[np.int64]:
        names = sorted({p.department for p in [*mentees, *mentors] if p.department})
        known = {name: k for k, name in enumerate(names, start=1)}
        return np.array([known.get(p.department or "", 0) for p in profiles], dtype=np.int64)

    mentee_dept, mentor_dept = codes(mentees)[:, None], codes(mentors)[None, :]
    cross = np.where(
        (mentee_dept == 0) | (mentor_dept == 0), 0.5, (mentee_dept != mentor_dept).astype(float)
    )

    def levels(profiles: Sequence[Profile]) -> npt.NDArray[np.float64]:
        return np.array(
            [np.nan if p.level is None else float(p.level) for p in profiles], dtype=np.float64
        )

    rise = levels(mentors)[None, :] - levels(mentees)[:, None]
    needed = max(rules.min_level_gap, 1)
    seniority = np.where(np.isnan(rise), 0.5, np.clip(np.nan_to_num(rise) / needed, 0.0, 1.0))

    blocked, lapsed = hard_rules(program, pool, now, gap=gap[rows, columns] if n and m else None)
    allowed = blocked == 0
    parts = {
        "competencies": competencies,
        "goals": goals,
        "formats": formats,
        "timezone": timezone,
        "cross_function": cross,
        "seniority": seniority,
    }
    weights = rules.weights.model_dump()
    total_weight = sum(weights.values())
    total = np.zeros((n, m))
    if total_weight > 0:
        for name, values in parts.items():
            total += weights[name] * values
        total /= total_weight
    return Scores(
        parts=parts,
        total=np.clip(total, 0.0, 1.0),
        allowed=allowed,
        blocked=blocked,
        goal_vectors=(left, right, terms),
        lapsed=lapsed & allowed,
    )


def hard_rules(
    program: Program,
    pool: Pool,
    now: datetime,
    *,
    gap: npt.NDArray[np.float64] | None = None,
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.bool_]]:
    """Which hard rule forbids each mentee–mentor pair of the pool, and which pairs lapsed.

    Args:
        program: The program (``max_timezone_gap_hours``).
        pool: The mentees (rows) and mentors (columns) to check.
        now: The moment timezone gaps are taken at.
        gap: The hours between each pair's timezones, when the caller has them already.

    Returns:
        For each pair, the index in :data:`RULES` of the first rule that forbids it (0:
        allowed); and True where the pair's earlier proposal lapsed unanswered.
    """
    mentees, mentors = pool.mentees, pool.mentors
    blocked = np.zeros((len(mentees), len(mentors)), dtype=np.int8)
    lapsed = np.zeros((len(mentees), len(mentors)), dtype=np.bool_)
    if not mentees or not mentors:
        return blocked, lapsed
    if gap is None:
        gap = np.array(
            [[timezone_gap(a.timezone, b.timezone, now) for b in mentors] for a in mentees]
        )
    # Later rules overwrite earlier ones, so the first rule in RULES is the one reported.
    blocked[gap > program.matching.max_timezone_gap_hours] = RULES.index("timezone")
    mentee_at = {p.person_id: i for i, p in enumerate(mentees)}
    mentor_at = {p.person_id: j for j, p in enumerate(mentors)}
    for mentee_id, mentor_id in pool.lapsed:
        if mentee_id in mentee_at and mentor_id in mentor_at:
            lapsed[mentee_at[mentee_id], mentor_at[mentor_id]] = True
    for mentee_id, mentor_id in pool.together:
        if mentee_id in mentee_at and mentor_id in mentor_at:
            blocked[mentee_at[mentee_id], mentor_at[mentor_id]] = RULES.index("before")
    chain = RULES.index("chain")
    for i, mentee in enumerate(mentees):
        for boss in _ancestors(mentee.person_id, pool.managers):
            if boss in mentor_at:
                blocked[i, mentor_at[boss]] = chain
    for j, mentor in enumerate(mentors):
        for boss in _ancestors(mentor.person_id, pool.managers):
            if boss in mentee_at:
                blocked[mentee_at[boss], j] = chain
    for person_id, i in mentee_at.items():
        if person_id in mentor_at:
            blocked[i, mentor_at[person_id]] = RULES.index("self")
    return blocked, lapsed


@dataclass(frozen=True)
class PairCheck:
    """One mentee–mentor pair as a round would see it, for a pair proposed by hand.

    Attributes:
        score: The fit in [0, 1].
        reasons: The top reasons it fits, for each reader.
        rule: The first rule in :data:`RULES` that forbids the pair, not counting their
            past pairings ("" when none does). A chain hides a timezone gap: see ``gap``.
        gap: How many hours apart their timezones are.
    """

    score: float
    reasons: tuple[Reason, ...]
    rule: str
    gap: float


def check_pair(
    program: Program,
    *,
    mentee: tuple[Person, Enrollment | None],
    mentor: tuple[Person, Enrollment | None],
    managers: dict[int, int | None],
    now: datetime,
) -> PairCheck:
    """Score one pair and apply the rules a round applies (self, chain, timezone gap).

    Past pairings, enrollments and free places are the caller's to check: this looks at
    the two people only, so it also works for someone not (yet) enrolled.
    """
    left = _profile(program, mentee[0], mentee[1], role=Role.MENTEE)
    right = _profile(program, mentor[0], mentor[1], role=Role.MENTOR)
    scores = score_pool(program, Pool([left], [right], set(), managers), now)
    return PairCheck(
        score=float(scores.total[0, 0]),
        reasons=explain(program, scores, left, right, row=0, column=0, now=now),
        rule=RULES[int(scores.blocked[0, 0])],
        gap=timezone_gap(left.timezone, right.timezone, now),
    )


def other_mentors(program: Program, pool: Pool, mentee: Profile, now: datetime) -> int:
    """How many mentors with a free place could mentor this mentee, not counting lapses.

    The hard rules only, with no scoring: cheap enough to say, when a proposal lapses,
    whether the next round has anyone else to offer.
    """
    free = [m for m in pool.mentors if m.free > 0]
    one = Pool([mentee], free, pool.together, pool.managers, lapsed=pool.lapsed)
    blocked, lapsed = hard_rules(program, one, now)
    return int(((blocked == 0) & ~lapsed).sum())


# --- explanations --------------------------------------------------------------------------


def _names(program: Program, ids: Iterable[str]) -> list[str]:
    names = []
    for key in ids:
        competency = program.competency(key)
        names.append(competency.name if competency else key)
    return names


def _hours(value: float) -> str:
    rounded = round(value * 2) / 2
    return f"{rounded:g} h"


def explain(
    program: Program,
    scores: Scores,
    mentee: Profile,
    mentor: Profile,
    *,
    row: int,
    column: int,
    now: datetime,
    top: int = 3,
) -> tuple[Reason, ...]:
    """The top reasons a pair fits, strongest first, each worded for all three readers."""
    weights = program.matching.weights.model_dump()
    total_weight = sum(weights.values()) or 1.0
    reasons: list[Reason] = []

    def add(part: str, mentee_text: str, mentor_text: str, lead_text: str) -> None:
        value = float(scores.parts[part][row, column])
        points = weights[part] * value / total_weight
        if points > 0:
            reasons.append(Reason(part, points, mentee_text, mentor_text, lead_text))

    wanted = list(mentee.competencies)
    shared = [c for c in wanted if c in set(mentor.competencies)]
    if shared:
        names = ", ".join(_names(program, shared))
        if len(shared) < len(wanted):
            count = f"{len(shared)} of the {len(wanted)}"
        else:
            count = {1: "the", 2: "both"}.get(len(wanted), f"all {len(wanted)}")
        one = "competency" if len(wanted) == 1 else "competencies"
        add(
            "competencies",
            f"covers {count} {one} you want to develop ({names})",
            f"you can help with {count} {one} {mentee.first_name} wants to develop ({names})",
            f"covers {count} wanted {one} ({names})",
        )
    terms = scores.goal_terms(row, column)
    if terms:
        words = ", ".join(terms)
        add(
            "goals",
            f"their experience speaks to your goals ({words})",
            f"your bio and strengths speak to {mentee.first_name}'s goals ({words})",
            f"goals and experience overlap ({words})",
        )
    formats = [f for f in mentee.formats if f in set(mentor.formats)]
    if formats:
        listed = ", ".join(formats)
        add(
            "formats",
            f"both of you want {listed}",
            f"both of you want {listed}",
            f"shared formats: {listed}",
        )
    together = shared_hours(program, mentee.timezone, mentor.timezone, now)
    if together > 0:
        text = f"{_hours(together)} of shared working hours"
        add("timezone", text, text, text)
    if mentee.department and mentor.department and mentee.department != mentor.department:
        text = f"{mentee.department} → {mentor.department}, a new function"
        add("cross_function", text, text, text)
    if mentee.level is not None and mentor.level is not None and mentor.level > mentee.level:
        rise = mentor.level - mentee.level
        levels = f"{rise} level{'s' if rise != 1 else ''}"
        add(
            "seniority",
            f"{levels} more senior than you",
            f"{levels} more senior than {mentee.first_name}",
            f"mentor {levels} more senior",
        )
    reasons.sort(key=lambda r: (-r.points, PARTS.index(r.part)))
    return tuple(reasons[:top])


# --- a round -------------------------------------------------------------------------------


def _wait_bonus(mentees: Sequence[Profile], now: datetime) -> npt.NDArray[np.float64]:
    waited = np.array(
        [max(0.0, (now - (m.waiting_since or now)).total_seconds()) for m in mentees],
        dtype=np.float64,
    )
    longest = waited.max() if len(waited) else 0.0
    if longest <= 0:
        return np.zeros(len(mentees))
    return WAIT_PRIORITY * waited / longest


def plan_matches(program: Program, pool: Pool, now: datetime) -> MatchPlan:
    """The best pairing of the whole pool: as many mentees as possible, the best total fit.

    Args:
        program: The program (weights and rules).
        pool: Everyone the round considers (see :func:`load_pool`).
        now: The moment of the round (timezones and waiting times are taken then).

    Returns:
        The proposals and the mentees left waiting with why; or a plan with ``problem``
        set when there is nobody to match or no pair the rules allow.
    """
    mentees = pool.mentees
    mentors = [m for m in pool.mentors if m.free > 0]
    plan = MatchPlan([], [], mentees=len(mentees), mentors=len(mentors))
    if not mentees:
        plan.problem = "There are no mentees waiting for a match, so there is nothing to propose."
        return plan
    if not pool.mentors and pool.paused_mentors:
        plan.problem = (
            "Every enrolled mentor is paused right now, so the "
            f"{_count(len(mentees), 'waiting mentee')} can't be matched until one resumes."
        )
        plan.waiting = [Waiting(m, "every mentor is taking a break right now") for m in mentees]
        return plan
    if not pool.mentors:
        plan.problem = (
            f"No mentors have enrolled yet, so the {len(mentees)} waiting "
            f"mentee{'s' if len(mentees) != 1 else ''} can't be matched. Ask senior "
            "colleagues to type join and enroll as mentors."
        )
        plan.waiting = [Waiting(m, "no mentors have enrolled yet") for m in mentees]
        return plan
    if not mentors:
        plan.problem = (
            "Every mentor's places are taken, so nobody can be matched this round. "
            "Ask mentors to take one more mentee, or invite new mentors."
        )
        plan.waiting = [Waiting(m, "every mentor's places are taken right now") for m in mentees]
        return plan
    scores = score_pool(
        program, Pool(mentees, mentors, pool.together, pool.managers, lapsed=pool.lapsed), now
    )
    if not scores.allowed.any():
        plan.problem = (
            "No mentee–mentor pair is allowed by the matching rules: "
            + _blocked_summary(scores, program)
            + ". Nothing was proposed."
        )
        plan.waiting = [
            _waiting(program, scores, scores.allowed, mentee, mentors, row)
            for row, mentee in enumerate(mentees)
        ]
        return plan
    fits = _fits(program, scores)
    if not fits.any():
        plan.problem = _none_fit_enough(program, scores)
        plan.waiting = [
            _waiting(program, scores, fits, mentee, mentors, row)
            for row, mentee in enumerate(mentees)
        ]
        return plan
    weighted = scores.total + _wait_bonus(mentees, now)[:, None]
    weighted = np.clip(weighted, 0.0, 1.0 + WAIT_PRIORITY) / (1.0 + WAIT_PRIORITY)
    if scores.lapsed.any():
        weighted = np.where(
            scores.lapsed,
            LAPSED_AT_MOST * weighted,
            OTHERS_AT_LEAST + (1.0 - OTHERS_AT_LEAST) * weighted,
        )
    pairs = solve(weighted, [m.free for m in mentors], fits)
    matched: set[int] = set()
    for row, column in pairs:
        matched.add(row)
        mentee, mentor = mentees[row], mentors[column]
        reasons = explain(program, scores, mentee, mentor, row=row, column=column, now=now)
        if scores.lapsed[row, column]:
            reasons += (_lapsed_before(mentee),)
        plan.proposals.append(
            Proposal(
                mentee=mentee,
                mentor=mentor,
                score=float(scores.total[row, column]),
                reasons=reasons,
                weak=_weakness(program, scores, mentee, row=row, column=column),
            )
        )
    plan.proposals.sort(key=lambda p: (-p.score, p.mentee.name))
    for row, mentee in enumerate(mentees):
        if row not in matched:
            plan.waiting.append(_waiting(program, scores, fits, mentee, mentors, row))
    return plan


def _fits(program: Program, scores: Scores) -> npt.NDArray[np.bool_]:
    """The pairs a round may propose: allowed by the hard rules and fit at least min_fit."""
    return scores.allowed & (scores.total >= program.matching.min_fit)


def shown_fit(value: float) -> str:
    """A fit as a review shows it ("0.40"), with more places only when it has them."""
    return f"{value:.2f}" if round(value, 2) == value else f"{value:g}"


def _best_below(program: Program, fits: npt.NDArray[np.float64]) -> str:
    """The best of some fits below min_fit, as a review shows a fit, yet never reaching it."""
    best = float(fits.max())
    shown = round(best, 2)
    if shown >= program.matching.min_fit:  # 0.397 would show as 0.40 next to a minimum of 0.40
        shown = math.floor(best * 100) / 100
    return f"{shown:.2f}"


def _none_fit_enough(program: Program, scores: Scores) -> str:
    """The round's problem when the rules allow some pairs but none reaches min_fit."""
    minimum = shown_fit(program.matching.min_fit)
    return (
        f"No mentee–mentor pair reaches the program's minimum fit of {minimum} "
        f"(matching.min_fit); the best pair the rules allow fits "
        f"{_best_below(program, scores.total[scores.allowed])}. Nothing was proposed. Lower "
        "matching.min_fit in the program file, or invite mentors who offer what the "
        "waiting mentees want to develop."
    )


def _weakness(
    program: Program, scores: Scores, mentee: Profile, *, row: int, column: int
) -> str | None:
    """Why a proposed pair is weak, without names, or None when it is not.

    A pair is weak when the mentee named competencies they want to develop and the mentor
    offers none of them. A mentee who named none scores 0.5 on the part (unknown), never
    0, so they are never weak for this reason.
    """
    if scores.parts["competencies"][row, column] > 0:
        return None
    known = {c.id for c in program.competencies}
    wanted = _names(program, [k for k in mentee.competencies if k in known])
    if not wanted:
        return None
    if len(wanted) == 1:
        return f"the mentor doesn't offer {wanted[0]}, the competency the mentee wants"
    return f"the mentor offers none of {', '.join(wanted)}, the competencies the mentee wants"


def _waiting(
    program: Program,
    scores: Scores,
    fits: npt.NDArray[np.bool_],
    mentee: Profile,
    mentors: Sequence[Profile],
    row: int,
) -> Waiting:
    """A mentee the round leaves over, with why."""
    below = bool(scores.allowed[row].any() and not fits[row].any())
    return Waiting(
        mentee, _why_waiting(program, scores, fits, mentee, mentors, row), below_min_fit=below
    )


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def _lapsed_before(mentee: Profile) -> Reason:
    """Why a pair whose proposal lapsed is proposed again, for each reader."""
    return Reason(
        part="lapsed",
        points=0.0,
        mentee=(
            "proposed to you before, when the proposal lapsed without an answer; no other "
            "mentor with a free place was left for you"
        ),
        mentor=(
            f"you were proposed to {mentee.first_name} before and that proposal lapsed without "
            f"an answer; no other mentor with a free place was left for {mentee.first_name}"
        ),
        lead=(
            "proposed before and lapsed unanswered; no other mentor with a free place was "
            "left for them"
        ),
    )


_RULE_WORDS = {
    "chain": "in your management chain",
    "before": "kept apart from you (paired before, or a proposal declined)",
    "timezone": "too many hours from your timezone",
    "self": "yourself",
}


def _rule_counts(blocked: npt.NDArray[np.int8]) -> dict[str, int]:
    """How many pairs each hard rule forbids, by rule name."""
    codes, tallies = np.unique(blocked, return_counts=True)
    return {RULES[c]: int(t) for c, t in zip(codes.tolist(), tallies.tolist(), strict=True) if c}


def _blocked_summary(scores: Scores, program: Program) -> str:
    counts = _rule_counts(scores.blocked)
    words = {
        "chain": "pairs within a management chain",
        "before": "pairs that were paired or declined before",
        "timezone": f"pairs more than {program.matching.max_timezone_gap_hours} h apart",
        "self": "people enrolled on both sides",
    }
    return ", ".join(f"{count} {words[rule]}" for rule, count in sorted(counts.items()))


def _why_waiting(
    program: Program,
    scores: Scores,
    fits: npt.NDArray[np.bool_],
    mentee: Profile,
    mentors: Sequence[Profile],
    row: int,
) -> str:
    """Why one mentee was left unmatched, in words they can act on."""
    allowed = np.flatnonzero(scores.allowed[row])
    if not len(allowed):
        counts = _rule_counts(scores.blocked[row])
        hours = program.matching.max_timezone_gap_hours
        words = dict(_RULE_WORDS, timezone=f"more than {hours} h from your timezone")
        listed = "; ".join(
            f"{count} {'is' if count == 1 else 'are'} {words[rule]}"
            for rule, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        )
        return (
            f"none of the {len(mentors)} mentor{'s' if len(mentors) != 1 else ''} with a "
            f"free place can mentor you ({listed})"
        )
    if not fits[row].any():
        if len(allowed) == len(mentors):
            who = "the mentor" if len(mentors) == 1 else f"all {len(mentors)} mentors"
            who += " with a free place"
        else:
            who = "the only mentor" if len(allowed) == 1 else f"the {len(allowed)} mentors"
            who += " with a free place who could mentor you"
        # In words: the mentee reads this, and a fit's number is for leads (the round's
        # header and problem give them the minimum and the best fit).
        return (
            f"{who} {'fits' if len(allowed) == 1 else 'fit'} you less closely than this "
            "program asks of a proposal, so none was proposed; new mentors may fit you better, "
            "and you can type join to update the competencies and goals you gave"
        )
    allowed = np.flatnonzero(fits[row])
    coverage = scores.parts["competencies"][row]
    if mentee.competencies and not (coverage[allowed] > 0).any():
        missing = ", ".join(_names(program, mentee.competencies))
        return (
            f"no mentor with a free place offers {missing} yet, and the places left went "
            "to mentees they suit better"
        )
    return (
        f"the {len(allowed)} mentor{'s' if len(allowed) != 1 else ''} with a free place "
        "who could mentor you were matched with mentees who fit them better or waited longer"
    )


def reasons_from(stored: Sequence[dict[str, Any]]) -> tuple[Reason, ...]:
    """Reasons as a pairing stored them."""
    return tuple(
        Reason(
            part=str(r.get("part", "")),
            points=float(r.get("points", 0.0)),
            mentee=str(r.get("mentee", "")),
            mentor=str(r.get("mentor", "")),
            lead=str(r.get("lead", "")),
        )
        for r in stored
    )
