"""How well a mentee and a mentor fit, which pairs the hard rules forbid, and why, in words.

Every mentee–mentor pair of a pool is scored from the weighted parts in
``matching.weights`` (:func:`score_pool`); :func:`explain` gives a pair's top reasons
for each reader. The hard rules (never broken):

* a mentor takes no more mentees than their capacity minus their open pairings;
* never the mentee's manager or anyone above them, nor anyone below them;
* never themselves;
* never two people who were paired before, or whose proposal was declined;
* never further apart than ``max_timezone_gap_hours``;
* peers: never more than ``max_level_gap`` levels apart; in a reverse program, never a
  mentor less than ``min_level_gap`` levels below the mentee (when both levels are known);
* nobody paused (paused enrollments are not in the pool at all).

The seniority part follows the program's type: in a ``one_to_one`` program a mentor scores
fully at ``min_level_gap`` levels or more ABOVE the mentee, in a ``reverse`` program at
``min_level_gap`` levels or more BELOW (a junior mentoring a senior leader); a ``peer``
program has no seniority part (its weight counts as 0), and a peer's wants are read against
the other peer's strengths (see handlers.matching.peers).

A pair proposed by hand is checked against the same rules (:func:`check_pair`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from handlers.core.calendar import clock_time
from handlers.core.messages import noun, plural
from handlers.core.program import Program, ProgramType
from handlers.matching.pool import Pool, Profile, profile_of
from storage import (
    Enrollment,
    Person,
    Role,
)

#: Parts in the order explanations list them when they count equally.
PARTS = ("competencies", "goals", "formats", "timezone", "cross_function", "seniority")
#: Goal fit: cosine similarity at which the part counts fully (TF-IDF cosines of short,
#: different texts rarely go above this).
GOAL_FULL_AT = 0.5


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


def shared_hours(program: Program, *, first: str, second: str, at: datetime) -> float:
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


def timezone_gap(first: str, second: str, *, at: datetime) -> float:
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

    def goal_terms(self, row: int, column: int, *, top: int = 3) -> list[str]:
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
RULES = ("", "self", "chain", "before", "timezone", "levels")


def part_weights(program: Program) -> dict[str, float]:
    """Each part's weight in this program: a peer program has no seniority part."""
    weights = program.matching.weights.model_dump()
    if program.type is ProgramType.PEER:
        weights["seniority"] = 0.0
    return weights


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


def score_pool(program: Program, pool: Pool, *, now: datetime) -> Scores:
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
    overlap = np.array(
        [[shared_hours(program, first=a, second=b, at=now) for b in zones] for a in zones]
    )
    gap = np.array([[timezone_gap(a, b, at=now) for b in zones] for a in zones])
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
    if program.type is ProgramType.REVERSE:
        rise = -rise  # the mirror: a mentor scores for being junior to the mentee
    needed = max(rules.min_level_gap, 1)
    seniority = np.where(np.isnan(rise), 0.5, np.clip(np.nan_to_num(rise) / needed, 0.0, 1.0))

    blocked, lapsed = hard_rules(
        program, pool, now=now, gap=gap[rows, columns] if n and m else None
    )
    allowed = blocked == 0
    parts = {
        "competencies": competencies,
        "goals": goals,
        "formats": formats,
        "timezone": timezone,
        "cross_function": cross,
        "seniority": seniority,
    }
    weights = part_weights(program)
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
    *,
    now: datetime,
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
            [[timezone_gap(a.timezone, b.timezone, at=now) for b in mentors] for a in mentees]
        )
    # Later rules overwrite earlier ones, so the first rule in RULES is the one reported.
    levels = [
        np.array([np.nan if p.level is None else p.level for p in side], dtype=float)
        for side in (mentees, mentors)
    ]
    with np.errstate(invalid="ignore"):
        below = levels[0][:, None] - levels[1][None, :]  # NaN where a level is unknown
        if program.type is ProgramType.PEER:
            blocked[np.abs(below) > program.matching.max_level_gap] = RULES.index("levels")
        elif program.type is ProgramType.REVERSE:
            blocked[below < program.matching.min_level_gap] = RULES.index("levels")
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
    left = profile_of(program, mentee[0], enrollment=mentee[1], role=Role.MENTEE)
    right = profile_of(program, mentor[0], enrollment=mentor[1], role=Role.MENTOR)
    scores = score_pool(program, Pool([left], [right], set(), managers), now=now)
    return PairCheck(
        score=float(scores.total[0, 0]),
        reasons=explain(program, scores, mentee=left, mentor=right, row=0, column=0, now=now),
        rule=RULES[int(scores.blocked[0, 0])],
        gap=timezone_gap(left.timezone, right.timezone, at=now),
    )


def other_mentors(program: Program, pool: Pool, *, mentee: Profile, now: datetime) -> int:
    """How many mentors with a free place could mentor this mentee, not counting lapses.

    The hard rules only, with no scoring: cheap enough to say, when a proposal lapses,
    whether the next round has anyone else to offer.
    """
    free = [m for m in pool.mentors if m.free > 0]
    one = Pool([mentee], free, pool.together, pool.managers, lapsed=pool.lapsed)
    blocked, lapsed = hard_rules(program, one, now=now)
    return int(((blocked == 0) & ~lapsed).sum())


# --- explanations --------------------------------------------------------------------------


def competency_names(program: Program, ids: Iterable[str]) -> list[str]:
    """Competencies by name, in the order given; an id the program no longer has as is."""
    names = []
    for key in ids:
        competency = program.competency(key)
        names.append(competency.name if competency else key)
    return names


def practical_reasons(
    program: Program, *, first: Profile, second: Profile, now: datetime
) -> list[tuple[str, str, str, str]]:
    """The practical parts two people share, worded the same for every program type.

    Returns:
        (part, as the first reads it, as the second reads it, as the lead reads it) for the
        formats both want and the working hours they share.
    """
    found = []
    formats = [f for f in first.formats if f in set(second.formats)]
    if formats:
        listed = ", ".join(formats)
        mutual = f"both of you want {listed}"
        found.append(("formats", mutual, mutual, f"shared formats: {listed}"))
    together = shared_hours(program, first=first.timezone, second=second.timezone, at=now)
    if together > 0:
        text = f"{_hours(together)} of shared working hours"
        found.append(("timezone", text, text, text))
    return found


def _hours(value: float) -> str:
    rounded = round(value * 2) / 2
    return f"{rounded:g} h"


def explain(
    program: Program,
    scores: Scores,
    *,
    mentee: Profile,
    mentor: Profile,
    row: int,
    column: int,
    now: datetime,
    top: int = 3,
) -> tuple[Reason, ...]:
    """The top reasons a pair fits, strongest first, each worded for all three readers."""
    weights = part_weights(program)
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
        names = ", ".join(competency_names(program, shared))
        if len(shared) < len(wanted):
            count = f"{len(shared)} of the {len(wanted)}"
        else:
            count = {1: "the", 2: "both"}.get(len(wanted), f"all {len(wanted)}")
        one = noun(len(wanted), "competency", many="competencies")
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
    for part, *worded in practical_reasons(program, first=mentee, second=mentor, now=now):
        add(part, *worded)
    if mentee.department and mentor.department and mentee.department != mentor.department:
        text = f"{mentee.department} → {mentor.department}, a new function"
        add("cross_function", text, text, text)
    reverse = program.type is ProgramType.REVERSE
    if reverse and mentee.level is not None and mentor.level is not None:
        drop = mentee.level - mentor.level
        if drop > 0:
            levels = plural(drop, "level")
            add(
                "seniority",
                f"{levels} junior to you: brings a fresh view",
                f"{levels} junior to {mentee.first_name}: you bring a fresh view",
                f"mentor {levels} junior: brings a fresh view",
            )
    elif mentee.level is not None and mentor.level is not None and mentor.level > mentee.level:
        rise = mentor.level - mentee.level
        levels = plural(rise, "level")
        add(
            "seniority",
            f"{levels} more senior than you",
            f"{levels} more senior than {mentee.first_name}",
            f"mentor {levels} more senior",
        )
    reasons.sort(key=lambda r: (-r.points, PARTS.index(r.part)))
    return tuple(reasons[:top])


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
