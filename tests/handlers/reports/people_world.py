"""The program ``report feedback``, ``report equity`` and ``report export`` are tested on.

The data set is inserted directly with known values: 16 mentees across departments,
levels, locations and self-identified attributes, 6 mentors, pairings activated a known
number of days after enrollment, logged sessions, plans and survey answers over four
months. Notes, summaries, comments, goals and objectives hold distinctive strings that no
rendering of any report may contain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from handlers.core.figures import Report
from handlers.core.program import Program, Question, QuestionType
from storage import (
    Database,
    Enrollment,
    Feedback,
    Milestone,
    Pairing,
    Person,
    SessionLog,
)

PROGRAM = "leadership-2027"
ENROLLED = datetime(2026, 8, 1, tzinfo=UTC)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SECRETS = (
    "SECRET-NOTE-ALPHA",
    "SECRET-SUMMARY-BETA",
    "SECRET-COMMENT-GAMMA",
    "SECRET-GOAL-DELTA",
    "SECRET-OBJECTIVE-EPSILON",
    "Mentee Number",
    "@example.org",
    # The lone answer to a number question: one person's own rating.
    "977",
)

#: (department, level, location, attributes, days from enrollment to a match or None).
MENTEES: list[tuple[str | None, int | None, str | None, dict[str, str], int | None]] = [
    ("Engineering", 3, "London", {"gender": "woman"}, 10),  # 1
    ("Engineering", 3, "London", {"gender": "woman"}, 10),  # 2
    ("Engineering", 3, "London", {"gender": "woman"}, 20),  # 3
    ("Engineering", 3, "London", {"gender": "man"}, 20),  # 4
    ("Engineering", 3, "Paris", {"gender": "man"}, 40),  # 5
    ("Engineering", 4, "Paris", {"gender": "woman"}, None),  # 6: a proposal is open
    ("Sales", 3, "London", {"gender": "woman"}, 5),  # 7
    ("Sales", 3, "London", {"gender": "man"}, 15),  # 8
    ("Sales", 3, "London", {"gender": "man"}, None),  # 9: declined a proposal
    ("Sales", 4, "Paris", {"gender": "man"}, None),  # 10
    ("Sales", 5, "Paris", {}, 30),  # 11
    ("Legal", 5, "London", {"gender": "non-binary", "ethnicity": "X"}, 50),  # 12
    ("Legal", None, "London", {"ethnicity": "Y"}, None),  # 13
    ("HR", None, "Paris", {"gender": "woman"}, None),  # 14
    ("Sales", 4, "Paris", {"gender": "man"}, 25),  # 15
    ("Engineering", None, "London", {"gender": "woman"}, 35),  # 16
]

#: Pulse "usefulness" ratings by the month they were answered in.
USEFULNESS = {
    "2026-08": [3, 3, 4, 4, 4, 5, 5],  # 7 answers, 4.0
    "2026-09": [4, 4, 5, 3, 4],  # 5 answers, 4.0 - withheld to protect November
    "2026-10": [5, 5, 5, 4, 4, 3],  # 6 answers, 4.33
    "2026-11": [1, 2],  # 2 answers: fewer than 5
}


@dataclass
class World:
    """Ids of the rows the tests look at."""

    mentees: list[int]
    first: int  # mentee 1's ended pairing
    second: int  # mentee 1's active pairing after it
    at_risk: int  # mentee 2's pairing
    pairings: dict[int, int]  # mentee number -> their active pairing


def _at(day: datetime | date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _person(number: int, role: str, **fields: Any) -> Person:
    return Person(
        email=f"{role}{number}@example.org",
        name=f"{role.title()} Number {number}",
        created_at=ENROLLED,
        updated_at=ENROLLED,
        **fields,
    )


async def seed(database: Database, *, number_question: bool = False) -> World:
    async with database.session() as session:
        mentees = [
            _person(n, "mentee", department=d, level=lv, location=loc, attributes=attrs)
            for n, (d, lv, loc, attrs, _) in enumerate(MENTEES, start=1)
        ]
        mentors = [
            _person(n, "mentor", department="Operations", level=7, attributes={"gender": "x"})
            for n in range(1, 7)
        ]
        outsider = _person(99, "mentee", department="Engineering", level=3)
        session.add_all([*mentees, *mentors, outsider])
        await session.flush()
        for person in mentees:
            assert person.id is not None
            session.add(
                Enrollment(
                    person_id=person.id,
                    program=PROGRAM,
                    role="mentee",
                    status="waiting",
                    answers={"goals": "SECRET-GOAL-DELTA"},
                    enrolled_at=ENROLLED,
                    updated_at=ENROLLED,
                )
            )
        for person in mentors:
            assert person.id is not None
            session.add(
                Enrollment(
                    person_id=person.id,
                    program=PROGRAM,
                    role="mentor",
                    status="available",
                    capacity=3,
                    enrolled_at=ENROLLED,
                    updated_at=ENROLLED,
                )
            )
        assert outsider.id is not None
        # Someone in another program counts nowhere here.
        session.add(
            Enrollment(
                person_id=outsider.id,
                program="other-program",
                role="mentee",
                status="waiting",
                enrolled_at=ENROLLED,
                updated_at=ENROLLED,
            )
        )

        def pairing(mentee: Person, mentor: Person, status: str, **fields: Any) -> Pairing:
            assert mentee.id is not None and mentor.id is not None
            return Pairing(
                program=fields.pop("program", PROGRAM),
                mentee_id=mentee.id,
                mentor_id=mentor.id,
                status=status,
                batch="round-1",
                proposed_at=ENROLLED,
                expires_at=ENROLLED + timedelta(days=7),
                **fields,
            )

        pairings: dict[int, Pairing] = {}
        for number, (*_, days) in enumerate(MENTEES, start=1):
            if days is None:
                continue
            mentor = mentors[number % len(mentors)]
            activated = ENROLLED + timedelta(days=days)
            if number == 1:
                # Matched on day 10, ended on day 50; matched again on day 60.
                first = pairing(
                    mentees[0],
                    mentor,
                    "ended",
                    activated_at=activated,
                    closed_at=ENROLLED + timedelta(days=50),
                    end_reason="completed",
                    at_risk_since=ENROLLED + timedelta(days=40),
                    missed_checkins=1,
                )
                session.add(first)
                activated = ENROLLED + timedelta(days=60)
            pairings[number] = pairing(
                mentees[number - 1], mentor, "active", activated_at=activated
            )
        pairings[2].at_risk_since = ENROLLED + timedelta(days=100)
        pairings[2].missed_checkins = 2
        pairings[2].cycle = 2
        session.add_all(pairings.values())
        session.add(pairing(mentees[5], mentors[0], "proposed"))
        session.add(pairing(mentees[8], mentors[1], "declined", declined_by="mentee"))
        elsewhere = pairing(
            outsider, mentors[2], "active", program="other-program", activated_at=ENROLLED
        )
        session.add(elsewhere)
        await session.flush()

        def log(pair: Pairing, held_on: date, minutes: int) -> SessionLog:
            assert pair.id is not None
            return SessionLog(
                pairing_id=pair.id,
                held_on=held_on,
                minutes=minutes,
                notes="SECRET-NOTE-ALPHA: we talked about the reorganisation",
                summary={"summary": "SECRET-SUMMARY-BETA", "next_steps": ["SECRET-NOTE-ALPHA"]},
                created_at=_at(held_on),
            )

        def milestone(pair: Pairing, cycle: int, position: int, status: str) -> Milestone:
            assert pair.id is not None
            return Milestone(
                pairing_id=pair.id,
                cycle=cycle,
                position=position,
                objective="SECRET-OBJECTIVE-EPSILON",
                target_date=date(2026, 10, 1),
                status=status,
                created_at=ENROLLED,
                updated_at=ENROLLED,
            )

        session.add_all(
            [
                log(first, date(2026, 8, 20), 60),
                log(first, date(2026, 9, 20), 30),
                log(pairings[2], date(2026, 11, 3), 45),
                log(elsewhere, date(2026, 11, 4), 600),
                milestone(first, 1, 1, "done"),
                milestone(first, 1, 2, "done"),
                milestone(first, 1, 3, "on_track"),
                # Mentee 2's pairing is in its second cycle: the first cycle's plan is done.
                milestone(pairings[2], 1, 1, "done"),
                milestone(pairings[2], 1, 2, "done"),
                milestone(pairings[2], 2, 1, "done"),
                milestone(pairings[2], 2, 2, "not_started"),
            ]
        )

        keys = iter(range(1, 10_000))

        def answer(
            pair: Pairing,
            survey: str,
            answers: dict[str, Any] | None,
            when: datetime | None,
            role: str = "mentee",
        ) -> Feedback:
            assert pair.id is not None
            return Feedback(
                key=f"{survey}:{pair.id}:{next(keys)}",
                pairing_id=pair.id,
                program=pair.program,
                survey=survey,
                respondent_id=pair.mentee_id if role == "mentee" else pair.mentor_id,
                role=role,
                status="answered" if when is not None else "asked",
                answers=answers,
                asked_at=when or NOW,
                answered_at=when,
            )

        rows: list[Feedback] = []
        comment = "SECRET-COMMENT-GAMMA, my mentor was late again"
        for month, ratings in USEFULNESS.items():
            year, number = (int(part) for part in month.split("-"))
            for i, rating in enumerate(ratings):
                # 2 of the first pairing's pulses; the rest on mentee 1's second pairing.
                pair = first if (month, i) in (("2026-08", 0), ("2026-08", 1)) else pairings[1]
                rows.append(
                    answer(
                        pair,
                        "pulse",
                        {
                            "usefulness": rating,
                            "next_step": "Yes" if rating >= 4 else "No",
                            "comment": comment,
                        },
                        datetime(year, number, 10 + i, 15, tzinfo=UTC),
                        role="mentor" if i % 2 else "mentee",
                    )
                )
        rows += [
            # Answered, but the rating was skipped, or is not a number.
            answer(pairings[1], "pulse", {"next_step": "Yes"}, datetime(2026, 10, 20, tzinfo=UTC)),
            answer(pairings[1], "pulse", {"usefulness": "n/a"}, datetime(2026, 10, 21, tzinfo=UTC)),
            # Asked and not answered (yet).
            answer(pairings[2], "pulse", None, None),
            answer(pairings[2], "pulse", None, None),
            answer(pairings[3], "calibration", None, None),
        ]
        # Only three calibrations answered: too few for an average.
        rows += [
            answer(
                pairings[n], "calibration", {"fit": 5, "comment": comment}, _at(date(2026, 9, 1))
            )
            for n in (3, 4, 5)
        ]
        # Three end-of-cycle answers: too few for an average or for shares of "recommend".
        rows += [
            answer(
                pairings[n],
                "end_of_cycle",
                {"value": 5, "recommend": "Yes", "comment": comment},
                _at(date(2026, 11, 2)),
            )
            for n in (7, 8, 11)
        ]
        # Mentor readiness: coaching and availability by five mentees, credibility by four.
        for n, (coaching, availability, credibility) in zip(
            (3, 4, 5, 7, 8),
            ((5, 4, 3), (4, 4, 3), (4, 3, 4), (3, 5, 5), (5, 4, None)),
            strict=True,
        ):
            given = {"coaching": coaching, "availability": availability}
            if credibility is not None:
                given["domain_credibility"] = credibility
            rows.append(answer(pairings[n], "mentor_readiness", given, _at(date(2026, 10, 5))))
        if number_question:
            rows.append(
                answer(
                    pairings[3],
                    "pulse",
                    {"usefulness": 4, "hours_saved": 977},
                    datetime(2026, 11, 25, tzinfo=UTC),
                )
            )
        # Another program's answers change nothing here.
        rows += [
            answer(elsewhere, "pulse", {"usefulness": 1, "next_step": "No"}, _at(date(2026, 10, d)))
            for d in range(1, 11)
        ]
        session.add_all(rows)
        await session.flush()
        ids = [p.id for p in mentees]
        assert all(i is not None for i in ids)
        assert first.id is not None and pairings[1].id is not None and pairings[2].id is not None
        return World(
            mentees=[i for i in ids if i is not None],
            first=first.id,
            second=pairings[1].id,
            at_risk=pairings[2].id,
            pairings={n: p.id for n, p in pairings.items() if p.id is not None},
        )


async def build_report(database: Database, program: Program, build: Any) -> Report:
    async with database.session() as session:
        report: Report = await build(session, program, now=NOW)
        return report


def with_number_question(program: Program) -> Program:
    """The program with a number question added to the pulse survey."""
    surveys = program.feedback.surveys
    extra = Question(id="hours_saved", prompt="Hours saved?", type=QuestionType.NUMBER, min=0)
    surveys = surveys.model_copy(update={"pulse": [*surveys.pulse, extra]})
    feedback = program.feedback.model_copy(update={"surveys": surveys})
    return program.model_copy(update={"feedback": feedback})


def rows_of(report: Report, title: str) -> list[tuple[Any, ...]]:
    found = [t for t in report.tables if t.title == title]
    assert found, f"no table {title!r} in {[t.title for t in report.tables]}"
    return list(found[0].rows)
