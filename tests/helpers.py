"""Test helpers: talk to the engine like a person (botbuilder's TestAdapter style)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import select

from bot.render_text import render_all
from handlers import Action, Engine, Inbound, Reply
from handlers.people.directory import find_or_create_person
from storage import Database, Person


class FakeClock:
    """A clock that stands still until moved."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


@dataclass
class Chat:
    """One person talking to the engine on one channel."""

    engine: Engine
    person: Person
    channel: str = "shell"
    last: list[Reply] = field(default_factory=list)

    @property
    def inbound(self) -> Inbound:
        assert self.person.id is not None
        return Inbound(self.channel, self.person.email, self.person.id)

    async def send(self, text: str) -> str:
        """Type a line; returns the replies as the shell would print them."""
        self.last = await self.engine.handle(
            Inbound(self.channel, self.person.email, self.inbound.person_id, text=text)
        )
        return render_all(self.last)

    async def click(self, *values: str, token: str | None = None) -> str:
        """Click option values of the last prompt (or of the prompt with ``token``)."""
        if token is None:
            token = self.last_prompt_token()
        self.last = await self.engine.handle(
            Inbound(
                self.channel,
                self.person.email,
                self.inbound.person_id,
                action=Action(token=token, values=values),
            )
        )
        return render_all(self.last)

    def last_prompt_token(self) -> str:
        prompts = [r.prompt for r in self.last if r.prompt is not None]
        assert prompts, f"the last replies asked nothing: {render_all(self.last)}"
        return prompts[-1].token

    async def expect(self, text: str, *fragments: str) -> str:
        """Send ``text`` and assert every fragment is in the reply."""
        reply = await self.send(text)
        for fragment in fragments:
            assert fragment in reply, f"{fragment!r} not in reply to {text!r}:\n{reply}"
        return reply


async def rows(database: Database, model: Any) -> list[Any]:
    """Every row of a table."""
    async with database.session() as session:
        return list((await session.exec(select(model))).all())


async def make_person(database: Database, email: str, **fields: object) -> Person:
    async with database.session() as session:
        person, _ = await find_or_create_person(
            session, email=email, now=datetime(2026, 11, 1, tzinfo=UTC)
        )
        for key, value in fields.items():
            setattr(person, key, value)
        session.add(person)
    return person


#: A complete mentee intake for the shipped app.yaml, as typed answers.
MENTEE_ANSWERS = [
    "Get ready to lead a team of five",
    "1, 3",
    "Trying it myself with feedback",
    "One-on-one, Shadowing",
    "3",
    "I prefer mornings",
]
#: What MENTEE_ANSWERS store, keyed by question id.
MENTEE_STORED = {
    "goals": "Get ready to lead a team of five",
    "competencies": ["strategic-judgment", "people-leadership"],
    "learning_style": "Trying it myself with feedback",
    "formats": ["One-on-one", "Shadowing"],
    "hours_per_month": 3,
    "anything_else": "I prefer mornings",
}
MENTOR_ANSWERS = [
    "Coaching, People leadership, Decision making",
    "2",
    "1",
    "4",
    "Ten years in product; I love helping new managers.",
]


async def enroll_as(
    database: Database,
    person: Person,
    role: str,
    *,
    program: str = "leadership-2027",
    capacity: int | None = None,
    status: str | None = None,
    since: datetime | None = None,
    answers: dict[str, Any],
) -> None:
    """Enroll someone directly (no chat), with the answers given by question id."""
    from storage import Enrollment

    moment = since or datetime(2026, 11, 2, tzinfo=UTC)
    assert person.id is not None
    async with database.session() as session:
        session.add(
            Enrollment(
                person_id=person.id,
                program=program,
                role=role,
                status=status or ("waiting" if role == "mentee" else "available"),
                answers=answers,
                capacity=capacity if role == "mentor" else None,
                enrolled_at=moment,
                updated_at=moment,
                waiting_since=moment if role == "mentee" else None,
            )
        )


async def mentee(
    database: Database,
    email: str,
    *,
    wants: tuple[str, ...] = ("coaching",),
    goals: str = "Get ready to lead a team",
    formats: tuple[str, ...] = ("One-on-one",),
    since: datetime | None = None,
    **person: object,
) -> Person:
    """A person in the directory, enrolled as a waiting mentee."""
    found = await make_person(database, email, **person)
    await enroll_as(
        database,
        found,
        "mentee",
        since=since,
        answers={
            "goals": goals,
            "competencies": list(wants),
            "learning_style": "Talking things through",
            "formats": list(formats),
            "hours_per_month": 2,
        },
    )
    return found


async def mentor(
    database: Database,
    email: str,
    *,
    strengths: tuple[str, ...] = ("coaching",),
    capacity: int = 1,
    bio: str = "Fifteen years leading teams; I love coaching new managers.",
    formats: tuple[str, ...] = ("One-on-one",),
    status: str | None = None,
    **person: object,
) -> Person:
    """A person in the directory, enrolled as an available mentor."""
    found = await make_person(database, email, **person)
    await enroll_as(
        database,
        found,
        "mentor",
        capacity=capacity,
        status=status,
        answers={
            "strengths": list(strengths),
            "capacity": capacity,
            "formats": list(formats),
            "hours_per_month": 2,
            "bio": bio,
        },
    )
    return found


def tuned(program: Any, *, blind_review: bool | None = None, **weights: float) -> Any:
    """The program with other matching weights or blind review (programs are frozen)."""
    matching = program.matching
    if weights:
        matching = matching.model_copy(
            update={"weights": matching.weights.model_copy(update=weights)}
        )
    if blind_review is not None:
        matching = matching.model_copy(update={"blind_review": blind_review})
    return program.model_copy(update={"matching": matching})
