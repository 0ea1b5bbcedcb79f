"""Every kind of message mentorbot sends, gathered by walking real flows through the engine.

A small program (the shipped ``app.yaml`` with one intake question of every type added)
runs in simulated time: a newcomer greets the bot, asks for help and joins through the
chat intake (answering each question type, a wrong answer, the confirmation); a lead
matches and approves; the pair accepts their proposals, writes and confirms a plan,
logs sessions and answers surveys with whole forms (as Slack and Teams do), and the
clock walks through the whole 90-day cycle, so every nudge, review, survey invitation,
lead alert and end-of-cycle question is delivered. The lead runs every report; people
pause, resume, ask for their data and leave. Every command is also typed bare by each
person, so a new command is covered the day it is added.

What is recorded is the neutral replies of each turn and of each outbox delivery, which
is exactly what the senders and channel edges hand to :func:`bot.slack.blocks.render_message`
and :func:`bot.teams.cards.card_activity`. Names, goals, bios, milestones and notes hold
markup a person might type (:data:`TYPED`), so every message also shows where typed text
lands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.config import parse_programs
from bot.teams.app import problems
from handlers.commands import home
from handlers.core.engine import Engine
from handlers.core.errors import FORM_FAILED, TURN_FAILED
from handlers.core.messages import Action, Form, Inbound, Reply, Submission
from handlers.core.outbox import take_waiting
from handlers.core.ports import Recipient
from handlers.core.program import Program
from handlers.reports.catalogue import CATALOGUE
from scheduler.outbox import OutboxWorker
from storage import Database, Pairing, Person
from tests.conftest import ROOT
from tests.handlers.cycle_world import World
from tests.helpers import make_person, mentee, mentor, rows

#: Markup a person might type: Slack mrkdwn and Markdown emphasis, a mention, an entity.
TYPED = "I'd *not* say _x_ ~y~ `z` <!channel> <@U123> & [a](https://evil.example)"
#: A name from the directory with markup in it.
NAME = "Lee *not* Park & <Co>"
LEAD = "priya.shah@example.com"
#: Monday 23 November 2026, 14:00 UTC: inside everyone's working hours.
START = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)

#: Mentee questions of the types the shipped intake does not ask in chat: a date, a
#: scale, a single choice long enough for a select, a multiple choice long enough for a
#: multi-select. Inserted after the shipped mentee questions.
EXTRA_QUESTIONS = """\
    - id: start_date
      prompt: When would you like to start?
      type: date
    - id: confidence
      prompt: How confident do you feel leading a team today?
      type: scale
      min: 1
      max: 5
      help: 1 = not at all, 5 = very
    - id: office
      prompt: Which office are you closest to?
      type: single_choice
      options: [Berlin, London, New York, Austin, Singapore, Dublin, Madrid, Toronto]
    - id: interests
      prompt: What else interests you?
      type: multi_choice
      options: [Design, Finance, Hiring, Legal, Marketing, Operations, Product, Research, Sales, Security, Strategy, Support]
      required: false
"""


def corpus_program() -> Program:
    """The shipped program with :data:`EXTRA_QUESTIONS` in the mentee intake."""
    text = (ROOT / "app.yaml").read_text()
    marker = "\n  mentor:\n"
    assert marker in text
    return parse_programs(
        text.replace(marker, "\n" + EXTRA_QUESTIONS + marker, 1), source="app"
    ).first


@dataclass(frozen=True)
class Sent:
    """One message the bot sends.

    Attributes:
        kind: What it is, for a person reading a failure ("lee typed 'plan'", "to ana: ...").
        replies: The neutral replies that make up the message.
    """

    kind: str
    replies: tuple[Reply, ...]


@dataclass
class Corpus:
    """What the bot sent in one walk, and what else a platform shows."""

    program: Program
    sent: list[Sent] = field(default_factory=list)
    #: Each person's overview (a Slack App Home tab), at several moments.
    homes: list[Sent] = field(default_factory=list)
    #: Saved intake answers by role, to prefill the Slack intake modal.
    answers: dict[str, dict[str, object]] = field(default_factory=dict)

    def add(self, kind: str, replies: list[Reply]) -> list[Reply]:
        if replies:
            self.sent.append(Sent(kind, tuple(replies)))
        return replies

    @property
    def forms(self) -> list[tuple[str, Form]]:
        """Every whole form sent (a Slack modal, a Teams card with inputs)."""
        return [(s.kind, r.form) for s in self.sent for r in s.replies if r.form is not None]


@dataclass
class _Recorder:
    """A platform that keeps what the outbox hands it."""

    corpus: Corpus
    platform: str = "record"

    async def deliver(self, *, recipient: Recipient, replies: list[Reply]) -> str | None:
        first = replies[0].title or replies[0].text.split("\n", 1)[0] if replies else ""
        self.corpus.add(f"to {recipient.email}: {first[:60]}", replies)
        return None


@dataclass
class _Talker:
    """One person on a channel that shows whole forms (as Slack and Teams do)."""

    engine: Engine
    corpus: Corpus
    person: Person
    last: list[Reply] = field(default_factory=list)

    @property
    def who(self) -> str:
        return self.person.email.split("@")[0]

    def _inbound(self, **turn: Any) -> Inbound:
        assert self.person.id is not None
        return Inbound("slack", f"T1/{self.person.email}", self.person.id, forms=True, **turn)

    async def say(self, text: str) -> list[Reply]:
        result = await self.engine.turn(self._inbound(text=text))
        self.last = self.corpus.add(f"{self.who} typed {text!r}", result.replies)
        return self.last

    async def click(self, *values: str) -> list[Reply]:
        [token] = [r.prompt.token for r in self.last if r.prompt is not None]
        result = await self.engine.turn(self._inbound(action=Action(token, values)))
        self.last = self.corpus.add(f"{self.who} clicked {', '.join(values)}", result.replies)
        return self.last

    async def submit(self, form: Form, **values: str | tuple[str, ...]) -> list[Reply]:
        given = {k: (v,) if isinstance(v, str) else v for k, v in values.items()}
        sent = Submission(form.name, form.ref, given)
        result = await self.engine.submit(self._inbound(form=sent))
        if result.form is not None and result.errors:
            # What Teams sends back after a refused form: the problems, then the form again.
            refused = result.form
            again = Reply(refused.intro or refused.title, title=refused.title, form=refused)
            self.corpus.add(f"{self.who}'s {form.name} form refused", [Reply(problems(result))])
            self.corpus.add(f"{self.who}'s {form.name} form again", [again])
        self.last = self.corpus.add(f"{self.who} submitted {form.name}", result.replies)
        return self.last

    def form(self) -> Form:
        [form] = [r.form for r in self.last if r.form is not None]
        return form

    async def overview(self) -> None:
        replies = await home(self.engine, self._inbound())
        self.corpus.homes.append(Sent(f"{self.who}'s home", tuple(replies)))


class _Walk(World):
    """The simulated program (see tests.handlers.cycle_world), its outbox kept in the corpus."""

    def __init__(self, database: Database, corpus: Corpus) -> None:
        super().__init__(database, corpus.program, START)
        self.corpus = corpus
        self.worker = OutboxWorker(database=database, senders=[_Recorder(corpus)], clock=self.clock)

    def talker(self, person: Person) -> _Talker:
        return _Talker(self.engine, self.corpus, person)

    async def walk(self, days: int) -> None:
        """Go forward ``days`` days, ticking only at the moments something is due."""
        end = self.clock.now() + timedelta(days=days)
        while (moment := await self.next_moment()) is not None and moment < end:
            self.clock.current = max(moment, self.clock.now() + timedelta(seconds=1))
            await self.tick()
        self.clock.current = end
        await self.tick()

    async def waiting(self, person: Person) -> None:
        """Messages still queued for a person, as a channel takes them when they write."""
        assert person.id is not None
        async with self.database.session() as session:
            replies = await take_waiting(
                session, person_id=person.id, channel="shell", now=self.clock.now()
            )
        for reply in replies:
            self.corpus.add(f"waiting for {person.email}", [reply])


async def _every_command(talker: _Talker) -> None:
    """Each command typed bare: its usage, its list, its refusal or its answer."""
    for command in talker.engine.commands_for(talker.person):
        if command.name in ("leave", "join", "match"):
            continue  # flows walked on purpose elsewhere
        replies = await talker.say(command.name)
        if any(r.prompt is not None for r in replies):
            await talker.say("cancel")


async def _join_by_chat(sam: _Talker) -> None:
    """The whole chat intake: every question type, a wrong answer, the confirmation."""
    await sam.say("join")
    await sam.click("mentee")
    await sam.say(TYPED)  # goals (text)
    await sam.click("coaching", "people-leadership")  # competencies (checkboxes)
    await sam.click("Trying it myself with feedback")  # learning style (buttons)
    await sam.click("One-on-one", "Shadowing")  # formats
    await sam.say("99")  # hours per month: out of range, asked again
    await sam.say("3")
    await sam.say("skip")  # anything else (optional text)
    await sam.say("2026-12-01")  # start date (date)
    await sam.say("4")  # confidence (scale)
    await sam.click("London")  # office (select)
    await sam.click("Design", "Hiring")  # interests (multi-select)
    await sam.click("change")  # the confirmation, then which answer to change
    await sam.click("goals")
    await sam.say("keep")
    await sam.click("yes")
    await sam.say("join mentee")  # already enrolled: update?
    await sam.click("no")


async def build_corpus(database: Database) -> Corpus:
    """Walk the program once and keep every message sent."""
    corpus = Corpus(corpus_program())
    walk = _Walk(database, corpus)
    lee = await mentee(database, "lee@x.com", name=NAME, goals=TYPED, timezone="Europe/London")
    ana = await mentor(database, "ana@x.com", name="Ana Lima", bio=TYPED, timezone="Europe/London")
    priya = await make_person(database, LEAD, name="Priya Shah", timezone="Europe/London")
    sam_person = await make_person(database, "sam@x.com", name="Sam Okafor")
    sam, lead = walk.talker(sam_person), walk.talker(priya)
    lee_talk, ana_talk = walk.talker(lee), walk.talker(ana)

    # A newcomer: the greeting, the overview, help, and the whole intake.
    await sam.say("hi")
    await sam.overview()
    await sam.say("what is this?")
    await _join_by_chat(sam)
    await sam.overview()

    # Matching: the lead's review, then the proposals and their answers.
    await lead.say("match")
    await lead.say("approve all")
    pairing = next(p for p in await rows(database, Pairing) if p.mentee_id == lee.id)
    n = pairing.id
    await walk.tick()
    await ana_talk.say(f"accept {n}")
    await walk.tick()
    await lee_talk.say(f"accept {n}")
    await walk.tick()

    # The plan, written by the mentee and confirmed by the mentor; consent to summaries.
    await lee_talk.say("plan")
    await lee_talk.say(TYPED)
    await lee_talk.say("in 3 weeks")
    await lee_talk.click("done")
    await walk.tick()
    await ana_talk.say(f"confirm-plan {n}")
    await lee_talk.say(f"consent {n} yes")
    await walk.tick()

    # A session logged with the whole form (once refused), and the pulse survey it asks.
    await walk.walk(2)
    await ana_talk.say(f"log {n}")
    log = ana_talk.form()
    await ana_talk.submit(log, date="2026-11-25", minutes="600", format="One-on-one")
    await ana_talk.submit(
        log,
        date="2026-11-25",
        minutes="45",
        format="One-on-one",
        topics=("coaching",),
        notes=TYPED,
        milestone_1="on_track",
    )
    await walk.tick()
    await lee_talk.say("feedback")
    await lee_talk.say(f"feedback {n} pulse")
    await lee_talk.submit(lee_talk.form(), usefulness="4", next_step="Yes", comment=TYPED)

    # The rest of the cycle: check-ins, reviews, surveys, alerts, the end of the cycle.
    for person in (lee_talk, ana_talk, lead):
        await person.overview()
    await walk.walk(92)
    await ana_talk.say("feedback")
    await lee_talk.say(f"feedback {n} calibration")
    await lee_talk.submit(lee_talk.form(), fit="4")

    # The lead's reports, every kind; then everyone types every command.
    for kind in CATALOGUE.kinds:
        await lead.say(f"report {kind}")
    for person in (sam, lee_talk, ana_talk, lead):
        await _every_command(person)
        await person.say("my-data")
        await person.say("no-such-command")

    # Pause and resume, then leaving (stay, then go).
    await ana_talk.say("pause for 2 weeks")
    await ana_talk.say("resume")
    await lee_talk.say("leave")
    await lee_talk.click("stay")
    await lee_talk.say("leave")
    await lee_talk.click("leave")
    await walk.tick()
    for person in (lee, ana, priya, sam_person):
        await walk.waiting(person)

    # What the edges say when something breaks (see handlers.core.errors).
    corpus.add("a turn that failed", [Reply(TURN_FAILED.format(reference="3f9a1c"))])
    corpus.add("a form that failed", [Reply(FORM_FAILED.format(reference="3f9a1c"))])
    corpus.answers["mentee"] = {
        "goals": TYPED,
        "competencies": ["coaching"],
        "start_date": "2026-12-01",
        "confidence": 4,
        "office": "London",
    }
    return corpus
