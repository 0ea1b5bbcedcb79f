"""The tables of mentor circles: a circle, its people, sessions, attendance, surveys, due work.

Imported by storage.models, which re-exports every name here.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.models import _person_id
from storage.types import JSONType, UTCDateTime


class CircleStatus(StrEnum):
    """Where a mentor circle stands.

    ``proposed``: the lead approved it and its people are answering; it becomes ``active``
    once the facilitator and at least ``circles.size.min`` members accepted (and nobody is
    left to answer). ``dissolved``: it fell under the smallest size before it started (or
    nobody answered in time); ``ended``: it ran and its cycle closed, or the lead ended it.
    """

    PROPOSED = "proposed"
    ACTIVE = "active"
    DISSOLVED = "dissolved"
    ENDED = "ended"


#: Circles that hold a facilitator's capacity and keep their members out of the pool.
OPEN_CIRCLE = (CircleStatus.PROPOSED, CircleStatus.ACTIVE)


class CircleRole(StrEnum):
    """A person's part in a circle."""

    FACILITATOR = "facilitator"
    MEMBER = "member"


class CircleMemberStatus(StrEnum):
    """Where one person of a circle stands.

    ``invited`` waits for their answer; ``accepted`` is in (before and while the circle
    runs); ``declined`` said no to the proposal (a member goes back to the waitlist);
    ``left`` left a running circle without ending it (``leave``), or was erased.
    """

    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    LEFT = "left"


class Circle(SQLModel, table=True):
    """A mentor circle: one facilitator and a small group of members, in one program.

    Its people are :class:`CircleMember` rows (the facilitator among them, with the role
    ``facilitator``), so every member answers, leaves and is counted the same way.

    Attributes:
        score: The circle's fit in [0, 1] when it was formed.
        reasons: The circle's reasons in words, as ``{"part", "text"}``.
        batch: The matching round that formed it.
        goals: Up to three shared goals (the circle's plan), as ``{"text", "status"}``.
        conversation: Where the circle talks on each platform, as the platform gave it
            (``{"slack": "C0123", "teams_channel": "19:...@thread.tacv2"}``).
    """

    __tablename__ = "circle"

    id: int | None = Field(default=None, primary_key=True)
    program: str = Field(sa_column=sa.Column(sa.String(100), nullable=False, index=True))
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
    activated_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))
    closed_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))
    #: Why it ended or was dissolved: ``too_small``, ``expired``, ``completed``, ``closed``.
    end_reason: str | None = Field(default=None, sa_column=sa.Column(sa.String(32)))
    cycle: int = Field(
        default=1, sa_column=sa.Column(sa.Integer, nullable=False, server_default="1")
    )
    cycle_started_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))
    goals: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=sa.Column(JSONType, nullable=False)
    )
    conversation: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(JSONType, nullable=False)
    )


class CircleMember(SQLModel, table=True):
    """One person of a circle: its facilitator or a member.

    Attributes:
        reasons: Why this member fits the circle, in words (``["shares Coaching ..."]``).
        missed_in_a_row: Sessions in a row logged without them (two bring a nudge).
        unexcluded_at: When a program lead lifted this member's decline (``unexclude``):
            it no longer keeps them from the facilitator's circles.
    """

    __tablename__ = "circle_member"
    __table_args__ = (sa.UniqueConstraint("circle_id", "person_id", name="one_place_per_circle"),)

    id: int | None = Field(default=None, primary_key=True)
    circle_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("circle.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    person_id: int = Field(sa_column=_person_id())
    role: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    reasons: list[str] = Field(default_factory=list, sa_column=sa.Column(JSONType, nullable=False))
    answered_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))
    left_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))
    missed_in_a_row: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    unexcluded_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))


class CircleSession(SQLModel, table=True):
    """A session a circle held, logged by its facilitator. Notes stay with the circle."""

    __tablename__ = "circle_session"
    __table_args__ = (sa.UniqueConstraint("circle_id", "held_on", name="one_circle_session_a_day"),)

    id: int | None = Field(default=None, primary_key=True)
    circle_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("circle.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    held_on: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    minutes: int = Field(nullable=False)
    notes: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    logged_by: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("person.id", ondelete="SET NULL")),
    )
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))


class CircleAttendance(SQLModel, table=True):
    """Whether one member came to one circle session (a row for every member then in it)."""

    __tablename__ = "circle_attendance"
    __table_args__ = (sa.UniqueConstraint("session_id", "person_id", name="one_attendance_each"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(
        sa_column=sa.Column(
            sa.Integer,
            sa.ForeignKey("circle_session.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    person_id: int = Field(sa_column=_person_id())
    attended: bool = Field(sa_column=sa.Column(sa.Boolean, nullable=False))


class CircleFeedback(SQLModel, table=True):
    """One person's answers to one survey about their circle (the pulse after a session).

    Like :class:`Feedback`: ``key`` makes asking idempotent (``pulse:SESSION:PERSON``), the
    answers are private, and leads see a circle's figures only when at least
    ``min_group_size`` of its members answered.
    """

    __tablename__ = "circle_feedback"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=sa.Column(sa.String(200), nullable=False, unique=True))
    circle_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("circle.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    program: str = Field(sa_column=sa.Column(sa.String(100), nullable=False, index=True))
    session_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("circle_session.id", ondelete="SET NULL")),
    )
    survey: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    respondent_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("person.id", ondelete="SET NULL"), index=True
        ),
    )
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    answers: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(JSONType))
    asked_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    answered_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))


class CircleDueKind(StrEnum):
    """What falls due in a circle's cycle."""

    #: A session is due: nudge the facilitator (and members who missed two in a row).
    SESSION = "session"
    #: The cycle's end: ask the facilitator to continue or close.
    END_REVIEW = "end_review"


class CircleDue(SQLModel, table=True):
    """Something a circle is owed at a moment, claimed as ``due_item`` rows are
    (scheduler.claims); ``(circle, kind, due_at)`` is unique."""

    __tablename__ = "circle_due"
    __table_args__ = (
        sa.UniqueConstraint("circle_id", "kind", "due_at", name="one_circle_due_per_moment"),
        sa.Index("circle_due_by_status_and_time", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    circle_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("circle.id", ondelete="CASCADE"), nullable=False
        )
    )
    program: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    due_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    #: ``pending`` or ``done`` (a :class:`DueStatus`).
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    outcome: str | None = Field(default=None, sa_column=sa.Column(sa.String(32)))
    lease_until: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    done_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))
