"""The tables. Alembic migrations own the schema; these classes mirror it."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.types import JSONType, UTCDateTime


def _person_id() -> sa.Column:  # type: ignore[type-arg]
    """The column of a row that belongs to a person and goes when they are deleted."""
    return sa.Column(
        sa.Integer, sa.ForeignKey("person.id", ondelete="CASCADE"), nullable=False, index=True
    )


class Role(StrEnum):
    """The part a person takes in a program.

    One-to-one and reverse programs pair a mentee with a mentor; a peer program's people
    all enrol as ``peer`` and are paired with each other (stored as a pairing's mentee and
    mentor sides, in no meaningful order).
    """

    MENTEE = "mentee"
    MENTOR = "mentor"
    PEER = "peer"


class EnrollmentStatus(StrEnum):
    """Where an enrollment stands.

    A mentee waits for a match, then is matched while their pairing is active; a mentor is
    available (their free places are their capacity minus their open pairings).
    """

    WAITING = "waiting"
    MATCHED = "matched"
    AVAILABLE = "available"
    PAUSED = "paused"
    #: A mentee whose pairing ended; ``join`` puts them back on the waitlist.
    COMPLETED = "completed"
    LEFT = "left"


class Person(SQLModel, table=True):
    """Someone in the company directory, whether or not they joined the program."""

    __tablename__ = "person"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_column=sa.Column(sa.String(320), nullable=False, unique=True))
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    department: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    title: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    level: int | None = Field(default=None)
    manager_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("person.id", ondelete="SET NULL")),
    )
    timezone: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    location: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    attributes: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(JSONType, nullable=False)
    )
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))


class Enrollment(SQLModel, table=True):
    """A person's place in the program in one role, with their intake answers."""

    __tablename__ = "enrollment"
    __table_args__ = (
        sa.UniqueConstraint("person_id", "program", "role"),
        sa.Index("enrollment_by_status", "program", "status", "person_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(sa_column=_person_id())
    program: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    role: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    #: Intake answers keyed by question id, as the questionnaire stored them.
    answers: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(JSONType, nullable=False)
    )
    #: How many mentees a mentor takes at once; None for mentees.
    capacity: int | None = Field(default=None)
    enrolled_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    #: Since when a mentee has waited for a match (their place on the waitlist).
    waiting_since: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))
    #: When a pause ends by itself (None: paused until ``resume``).
    paused_until: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))
    #: The status a pause put aside, restored by ``resume``.
    status_before_pause: str | None = Field(default=None, sa_column=sa.Column(sa.String(16)))
    #: Why the bot paused this enrollment by itself (``lapses``: a mentor let proposals
    #: lapse); None for a pause the person asked for. Such a pause stops new proposals only.
    paused_reason: str | None = Field(default=None, sa_column=sa.Column(sa.String(32)))
    #: Lapses before this moment no longer count towards ``matching.lapses_before_pause``
    #: (set when the bot pauses a mentor for lapses, so a resumed mentor starts afresh).
    lapses_counted_from: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))
    #: Why the last matching round left this mentee without a proposal, in their words.
    waiting_reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    #: When ``waiting_reason`` was written (the round, a lapse or a decline).
    waiting_reason_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))


class ConversationState(SQLModel, table=True):
    """Where one person is in a multi-step flow on one channel.

    Written on every turn; ``version`` is checked on each write so a stale or doubled
    answer (two replicas, a double click) is refused instead of corrupting the flow.
    """

    __tablename__ = "conversation_state"
    __table_args__ = (sa.UniqueConstraint("channel", "user_key"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    user_key: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    person_id: int = Field(sa_column=_person_id())
    flow: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    step: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    data: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(JSONType, nullable=False)
    )
    version: int = Field(default=1, nullable=False)
    updated_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))


METADATA = SQLModel.metadata


class PlatformAccount(SQLModel, table=True):
    """A person's account on a chat platform, cached so the platform is asked only once.

    Attributes:
        platform: ``slack`` or ``teams``.
        external_id: The platform's user id (Slack ``T123/U456``; Teams AAD object id).
        dm_channel: The direct-message conversation with the bot, once opened.
        tenant: The Microsoft 365 tenant (Teams) the account belongs to; a link from a
            tenant the bot does not serve never resolves to a person.
        last_seen_at: When the person last talked to the bot there; messages that are not
            answers go to the platform seen most recently.
    """

    __tablename__ = "platform_account"
    __table_args__ = (sa.UniqueConstraint("platform", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    external_id: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    person_id: int = Field(sa_column=_person_id())
    dm_channel: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    tenant: str | None = Field(default=None, sa_column=sa.Column(sa.String(100)))
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    last_seen_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))


class ProcessedEvent(SQLModel, table=True):
    """A platform event already handled; platforms re-send, replicas share this table."""

    __tablename__ = "processed_event"
    __table_args__ = (sa.UniqueConstraint("platform", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    event_id: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    received_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False, index=True))


class OutboxStatus(StrEnum):
    """Where a message waiting in the outbox stands."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNDELIVERABLE = "undeliverable"
    #: Taken back before it went out: what it said stopped being true (the pairing it is
    #: about ended, a newer plan replaced the one it shows). ``withdrawn_reason`` says why.
    WITHDRAWN = "withdrawn"


class Outbox(SQLModel, table=True):
    """A message to someone who is not the one typing (proposals, nudges, reminders).

    ``dedupe_key`` is unique, so the same message is never queued, or sent, twice.
    """

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(sa_column=sa.Column(sa.String(200), nullable=False, unique=True))
    person_id: int = Field(sa_column=_person_id())
    #: The neutral replies, serialised (see handlers.core.messages).
    payload: list[dict[str, Any]] = Field(sa_column=sa.Column(JSONType, nullable=False))
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    #: The channel that delivered (or last tried to deliver) it.
    channel: str | None = Field(default=None, sa_column=sa.Column(sa.String(16)))
    attempts: int = Field(default=0, nullable=False)
    next_attempt_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    lease_until: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.String(500)))
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))
    #: Messages sharing a group key go to all their recipients at once where the platform
    #: has group conversations (a Slack group DM); elsewhere each goes on its own.
    group_key: str | None = Field(default=None, sa_column=sa.Column(sa.String(200), index=True))
    #: The id the platform gave the delivered message (Slack ``ts``, Teams activity id).
    platform_message_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    #: The pairing (or proposal) the message is about, if any: when it ends, what is still
    #: waiting about it is withdrawn (handlers.core.outbox.withdraw).
    pairing_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("pairing.id", ondelete="SET NULL"), index=True
        ),
    )
    #: When and why a withdrawn message was taken back (``left``, ``plan replaced`` ...).
    withdrawn_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))
    withdrawn_reason: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))


class ConversationRef(SQLModel, table=True):
    """Where a platform lets the bot write to a person unprompted (a Teams proactive reference).

    Refreshed on every turn; without one a Teams user who never opened a chat with the bot
    cannot be messaged.
    """

    __tablename__ = "conversation_ref"
    __table_args__ = (sa.UniqueConstraint("person_id", "platform"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(sa_column=_person_id())
    platform: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    reference: dict[str, Any] = Field(sa_column=sa.Column(JSONType, nullable=False))
    updated_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))


class PairingStatus(StrEnum):
    """Where a pairing stands.

    ``proposed`` waits for the mentor, ``accepted`` (by the mentor) waits for the mentee;
    both accepting makes it ``active``. A ``declined`` proposal and an ``ended`` pairing keep
    the two apart in every later matching round; an ``expired`` one (nobody answered in
    time) only puts the pair after the mentee's other options. A program lead can lift a
    declined or expired one (``Pairing.unexcluded_at``).
    """

    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    ACTIVE = "active"
    DECLINED = "declined"
    EXPIRED = "expired"
    ENDED = "ended"


#: Pairings that hold a place in a mentor's capacity and keep the mentee out of the pool.
OPEN_PAIRING = (PairingStatus.PROPOSED, PairingStatus.ACCEPTED, PairingStatus.ACTIVE)


class Pairing(SQLModel, table=True):
    """A mentee and a mentor, from the proposal through the active pairing to its end.

    Attributes:
        score: The fit in [0, 1] when it was proposed.
        reasons: The top reasons, each as ``{"part", "points", "mentee", "mentor", "lead"}``:
            the same reason worded for the mentee, the mentor and the program lead.
        batch: The matching round that proposed it.
        declined_by: ``mentee`` or ``mentor``: who declined a declined proposal, or who
            did not answer a lapsed (``expired``) one.
        expires_at: When an unanswered proposal lapses.
    """

    __tablename__ = "pairing"
    __table_args__ = (
        sa.Index(
            "one_open_pairing_per_mentee",
            "program",
            "mentee_id",
            unique=True,
            sqlite_where=sa.text("status IN ('proposed', 'accepted', 'active')"),
            postgresql_where=sa.text("status IN ('proposed', 'accepted', 'active')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    program: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    mentee_id: int = Field(sa_column=_person_id())
    mentor_id: int = Field(sa_column=_person_id())
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False, index=True))
    score: float = Field(default=0.0, nullable=False)
    reasons: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=sa.Column(JSONType, nullable=False)
    )
    batch: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    proposed_by: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("person.id", ondelete="SET NULL")),
    )
    proposed_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    expires_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    mentor_answered_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))
    activated_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))
    closed_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))
    declined_by: str | None = Field(default=None, sa_column=sa.Column(sa.String(16)))
    #: Which cycle an active pairing is in (1, then 2 after continuing, ...).
    cycle: int = Field(
        default=1, sa_column=sa.Column(sa.Integer, nullable=False, server_default="1")
    )
    cycle_started_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))
    #: The last sign of life: activation, a logged session, a "keep going", a resume.
    last_activity_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))
    #: Check-ins in a row that fell due with no session logged.
    missed_checkins: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    at_risk_since: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))
    #: When the mentor confirmed the plan's current version (None: not confirmed yet).
    plan_confirmed_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))
    #: The number of the plan's current version (0: none written yet). Each save of the
    #: plan adds one, so a card that shows an older version cannot confirm a newer one.
    plan_version: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    #: Whether each side agreed to LLM summaries of their session notes (None: not asked).
    mentee_consent: bool | None = Field(default=None, sa_column=sa.Column(sa.Boolean))
    mentor_consent: bool | None = Field(default=None, sa_column=sa.Column(sa.Boolean))
    #: Why an active pairing ended: ``completed``, ``closed``, ``rematch``, ``left``.
    end_reason: str | None = Field(default=None, sa_column=sa.Column(sa.String(32)))
    #: When a program lead lifted this declined or lapsed proposal (``unexclude``): it no
    #: longer keeps the two apart, nor puts them after the mentee's other options.
    unexcluded_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))


class DueStatus(StrEnum):
    """Where a due item stands.

    ``pending`` waits for its time; a tick ``claimed`` it (with a lease, so a crash gives it
    back); ``done`` is final, with ``outcome`` saying what happened; ``held`` waits for a
    paused person to resume; ``cancelled`` belongs to a pairing that ended.
    """

    PENDING = "pending"
    CLAIMED = "claimed"
    DONE = "done"
    HELD = "held"
    CANCELLED = "cancelled"


class DueKind(StrEnum):
    """What falls due in a pairing's cycle."""

    CHECKIN = "checkin"
    REMINDER = "reminder"
    CALIBRATION = "calibration"
    MIDPOINT = "midpoint"
    END_REVIEW = "end_review"
    QUARTERLY_REVIEW = "quarterly_review"
    INACTIVITY = "inactivity"
    #: Look whether the plan is still owed (unwritten, or unconfirmed) and remind who owes it.
    PLAN_REMINDER = "plan_reminder"
    #: Look for surveys still unanswered and remind each person who owes one.
    SURVEY_REMINDER = "survey_reminder"


class DueItem(SQLModel, table=True):
    """Something a pairing is owed at a moment: a check-in, a review, a reminder.

    The database, not the scheduler, is the record of what is owed; ``(pairing, kind,
    due_at)`` is unique so scheduling twice schedules once.

    Attributes:
        answers: What each side answered to it (``{"mentee": "yes"}``), and for a reminder
            why it was set (``{"why": "snoozed", "since": ISO date}``).
        outcome: What processing did: ``sent``, ``suppressed`` (a session was logged),
            ``folded`` (into a catch-up message), ``closed`` (the pairing ended).
    """

    __tablename__ = "due_item"
    __table_args__ = (
        sa.UniqueConstraint("pairing_id", "kind", "due_at", name="one_due_item_per_moment"),
        sa.Index("due_item_by_status_and_time", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    pairing_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("pairing.id", ondelete="CASCADE"), nullable=False
        )
    )
    #: The program of the pairing (set on insert, see ``handlers.cycle.schedule.insert_due``).
    program: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    due_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    outcome: str | None = Field(default=None, sa_column=sa.Column(sa.String(32)))
    lease_until: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))
    answers: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(JSONType, nullable=False)
    )
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    done_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))


class MilestoneStatus(StrEnum):
    """Progress on one milestone of a 90-day plan."""

    NOT_STARTED = "not_started"
    ON_TRACK = "on_track"
    DONE = "done"


class Milestone(SQLModel, table=True):
    """One objective of a pairing's plan for a cycle, with its target date."""

    __tablename__ = "milestone"
    __table_args__ = (sa.UniqueConstraint("pairing_id", "cycle", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    pairing_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("pairing.id", ondelete="CASCADE"), nullable=False
        )
    )
    cycle: int = Field(nullable=False)
    position: int = Field(nullable=False)
    objective: str = Field(sa_column=sa.Column(sa.String(300), nullable=False))
    target_date: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))


class PlanVersion(SQLModel, table=True):
    """One version of a pairing's plan as the mentee wrote it: what was agreed, and when.

    Each save of the plan adds a version, numbered 1, 2, ... across the pairing's cycles;
    the ``milestone`` rows hold the current version with its progress. A mentor confirms a
    version, never "the plan", so a card showing an older version cannot confirm a newer.

    Attributes:
        milestones: The objectives and target dates as written, in order:
            ``[{"objective": "...", "target": "2027-01-15"}]``.
        shown_to_mentor_at: When a reply to the mentor showed this version (``plan``, or
            the answer to a card of an older one); with a delivered card, this is what
            lets a ``confirm-plan`` typed without a version confirm it.
    """

    __tablename__ = "plan_version"
    __table_args__ = (sa.UniqueConstraint("pairing_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    pairing_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("pairing.id", ondelete="CASCADE"), nullable=False
        )
    )
    cycle: int = Field(nullable=False)
    version: int = Field(nullable=False)
    milestones: list[dict[str, str]] = Field(
        default_factory=list, sa_column=sa.Column(JSONType, nullable=False)
    )
    written_by: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("person.id", ondelete="SET NULL")),
    )
    written_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    shown_to_mentor_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))
    confirmed_by: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("person.id", ondelete="SET NULL")),
    )
    confirmed_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))


class SessionLog(SQLModel, table=True):
    """A mentoring session a pair held. Notes are private to the pair and never logged.

    ``(pairing, held_on)`` is unique: both sides logging the same meeting count it once.
    The first to log it gives the session its minutes, format and notes; the other side's
    answers are added to the same row (``second_*``), their notes kept apart from the
    first side's, so neither overwrites the other. Topics are those of both sides.
    """

    __tablename__ = "session_log"
    __table_args__ = (sa.UniqueConstraint("pairing_id", "held_on"),)

    id: int | None = Field(default=None, primary_key=True)
    pairing_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("pairing.id", ondelete="CASCADE"), nullable=False
        )
    )
    held_on: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    minutes: int = Field(nullable=False)
    format: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    topics: list[str] = Field(default_factory=list, sa_column=sa.Column(JSONType, nullable=False))
    notes: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    summary: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(JSONType))
    logged_by: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("person.id", ondelete="SET NULL")),
    )
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    #: Each milestone's progress as the logger saw it, by position: ``{"1": "on_track"}``.
    progress: dict[str, str] | None = Field(default=None, sa_column=sa.Column(JSONType))
    summary_status: str | None = Field(default=None, sa_column=sa.Column(sa.String(16)))
    summary_attempts: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    summary_next_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))
    summary_error: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    #: The other side of the pair, when they added their answers to this session.
    second_by: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("person.id", ondelete="SET NULL")),
    )
    #: When the other side added theirs; set once, so "already added" survives an erasure.
    second_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))
    #: The minutes the other side gave; the session counts the first side's ``minutes``.
    second_minutes: int | None = Field(default=None)
    second_format: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    #: The other side's own notes: private to the pair, like ``notes``.
    second_notes: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    #: Each milestone's progress as the other side saw it, by position.
    second_progress: dict[str, str] | None = Field(default=None, sa_column=sa.Column(JSONType))


class SummaryStatus(StrEnum):
    """Where a session's note summary stands (``None`` on the log: none is wanted)."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class FeedbackStatus(StrEnum):
    """A feedback request is asked, then answered (or left unanswered)."""

    ASKED = "asked"
    ANSWERED = "answered"


class Feedback(SQLModel, table=True):
    """One person's answers to one survey about their pairing.

    A row is created when the survey is asked (``key`` makes asking idempotent:
    ``pulse:SESSION:PERSON``, ``calibration:PAIRING:CYCLE:PERSON`` ...) and filled in
    when it is answered. Answers are private: the other side sees them only when
    ``feedback.share_with_pair`` is on, and leads see aggregates only.
    """

    __tablename__ = "feedback"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=sa.Column(sa.String(200), nullable=False, unique=True))
    pairing_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("pairing.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    #: The program of the pairing (set on insert, see ``handlers.sessions.feedback``).
    program: str = Field(sa_column=sa.Column(sa.String(100), nullable=False, index=True))
    session_log_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("session_log.id", ondelete="SET NULL")),
    )
    survey: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    respondent_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("person.id", ondelete="SET NULL"), index=True
        ),
    )
    role: Role = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    status: FeedbackStatus = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    answers: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(JSONType))
    asked_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    answered_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))


class Invitation(SQLModel, table=True):
    """A lead's invitation into a program: what opens an invite-only program to a person.

    One per person and program (inviting again changes nothing); it stays after they join,
    as the record of why they could.
    """

    __tablename__ = "invitation"
    __table_args__ = (sa.UniqueConstraint("program", "person_id", name="one_invitation_each"),)

    id: int | None = Field(default=None, primary_key=True)
    program: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    person_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("person.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    invited_by: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("person.id", ondelete="SET NULL")),
    )
    invited_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))


class AuditEntry(SQLModel, table=True):
    """One lead action (a report, a match approval, an erasure), or a refused attempt.

    ``detail`` says what was asked (a report's kind and format), never what it showed.
    """

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False, index=True))
    actor: str = Field(sa_column=sa.Column(sa.String(320), nullable=False))
    action: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    target: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    allowed: bool = Field(sa_column=sa.Column(sa.Boolean, nullable=False))
    detail: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(JSONType))


# The tables of circles and of meetings live in modules of their own (storage/__init__.py
# exports their names); importing them here puts every table on METADATA for whoever
# imports this module (the migrations, the tests).
from storage import circle_models, meeting_models  # noqa: E402, F401
