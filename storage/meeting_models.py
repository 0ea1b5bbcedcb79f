"""The tables of meetings in calendars: a pair's meetings and each person's feed.

Imported by storage.models, which re-exports every name here.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.types import JSONType, UTCDateTime


class MeetingStatus(StrEnum):
    """Where a pair's meeting stands.

    ``offered``: one side offered times and the other has not picked one yet; ``booked``:
    in both calendars (a one-off, or a series until the cycle's end); ``cancelled``: taken
    out of both calendars (a cancel invite went out); ``declined``: the offer was turned
    down ("other times") or replaced by a newer offer before anyone picked; ``withdrawn``:
    the pairing ended before anyone picked (handlers.meetings.booking.withdraw_offers).
    """

    OFFERED = "offered"
    BOOKED = "booked"
    CANCELLED = "cancelled"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class Meeting(SQLModel, table=True):
    """A pair's meeting in their calendars: offered times, then a booked one-off or series.

    ``uid`` is the iCalendar UID of every invite about it (stable across changes); each
    change raises ``sequence``, so calendars replace the older invite.

    Attributes:
        starts_at: The first occurrence's start (UTC), once booked.
        minutes: How long each occurrence lasts.
        every_days: A series' interval (``cadence.checkin_every_days``); None: a one-off.
        until: A series' last possible start (the cycle's end), UTC.
        offered: The slots offered, as ``[{"start": ISO, "end": ISO}]`` (UTC).
        exceptions: Occurrences of a series moved or cancelled one at a time, as
            ``[{"original": ISO, "moved_to": ISO or None}]`` (None: that one cancelled).
    """

    __tablename__ = "meeting"
    __table_args__ = (sa.Index("meeting_by_pairing_and_status", "pairing_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    pairing_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("pairing.id", ondelete="CASCADE"), nullable=False
        )
    )
    program: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    uid: str = Field(sa_column=sa.Column(sa.String(200), nullable=False, unique=True))
    sequence: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    minutes: int = Field(nullable=False)
    starts_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))
    every_days: int | None = Field(default=None)
    until: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))
    offered: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=sa.Column(JSONType, nullable=False)
    )
    offered_by: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("person.id", ondelete="SET NULL")),
    )
    exceptions: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=sa.Column(JSONType, nullable=False)
    )
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    cancelled_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime))


class CalendarFeed(SQLModel, table=True):
    """A person's private calendar subscription: only the token's SHA-256 is kept.

    ``calendar reset`` replaces the row's hash, so the old URL stops working at once.
    """

    __tablename__ = "calendar_feed"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(
        sa_column=sa.Column(
            sa.Integer,
            sa.ForeignKey("person.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        )
    )
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
