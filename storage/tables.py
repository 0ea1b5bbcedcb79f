"""The tables under the models, for SQLAlchemy Core statements.

``DUE.c.status`` reads better than ``DueItem.__table__.c.status`` and needs no
``type: ignore`` at each use: SQLModel declares ``__table__`` only at run time.
"""

from __future__ import annotations

import sqlalchemy as sa

from storage.circle_models import (
    Circle,
    CircleAttendance,
    CircleDue,
    CircleFeedback,
    CircleMember,
    CircleSession,
)
from storage.meeting_models import CalendarFeed, Meeting
from storage.models import (
    DueItem,
    Enrollment,
    Feedback,
    Invitation,
    Milestone,
    Outbox,
    Pairing,
    Person,
    PlanVersion,
    PlatformAccount,
    SessionLog,
)

CALENDAR_FEED: sa.Table = CalendarFeed.__table__  # type: ignore[attr-defined]
CIRCLE: sa.Table = Circle.__table__  # type: ignore[attr-defined]
CIRCLE_ATTENDANCE: sa.Table = CircleAttendance.__table__  # type: ignore[attr-defined]
CIRCLE_DUE: sa.Table = CircleDue.__table__  # type: ignore[attr-defined]
CIRCLE_FEEDBACK: sa.Table = CircleFeedback.__table__  # type: ignore[attr-defined]
CIRCLE_MEMBER: sa.Table = CircleMember.__table__  # type: ignore[attr-defined]
CIRCLE_SESSION: sa.Table = CircleSession.__table__  # type: ignore[attr-defined]
DUE: sa.Table = DueItem.__table__  # type: ignore[attr-defined]
ENROLLMENT: sa.Table = Enrollment.__table__  # type: ignore[attr-defined]
FEEDBACK: sa.Table = Feedback.__table__  # type: ignore[attr-defined]
INVITATION: sa.Table = Invitation.__table__  # type: ignore[attr-defined]
MEETING: sa.Table = Meeting.__table__  # type: ignore[attr-defined]
MILESTONE: sa.Table = Milestone.__table__  # type: ignore[attr-defined]
OUTBOX: sa.Table = Outbox.__table__  # type: ignore[attr-defined]
PAIRING: sa.Table = Pairing.__table__  # type: ignore[attr-defined]
PERSON: sa.Table = Person.__table__  # type: ignore[attr-defined]
PLAN_VERSION: sa.Table = PlanVersion.__table__  # type: ignore[attr-defined]
PLATFORM_ACCOUNT: sa.Table = PlatformAccount.__table__  # type: ignore[attr-defined]
SESSION_LOG: sa.Table = SessionLog.__table__  # type: ignore[attr-defined]
