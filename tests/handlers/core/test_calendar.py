"""Delivery times: inside working hours, on working days, in the recipient's own timezone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from handlers.core.calendar import next_delivery
from handlers.core.program import WorkingHours

HOURS = WorkingHours(start="09:00", end="17:30", days=["mon", "tue", "wed", "thu", "fri"])


def local(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%a %Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("due", "zone", "expected"),
    [
        # Inside working hours: at once.
        (datetime(2026, 11, 23, 10, 0, tzinfo=UTC), "Europe/London", "Mon 2026-11-23 10:00"),
        # 3 a.m. in Tokyo (18:00 UTC): the same morning at nine, Tokyo time.
        (datetime(2026, 11, 23, 18, 0, tzinfo=UTC), "Asia/Tokyo", "Tue 2026-11-24 09:00"),
        # After hours on a Friday in New York: Monday morning.
        (datetime(2026, 11, 27, 23, 0, tzinfo=UTC), "America/New_York", "Mon 2026-11-30 09:00"),
        # Saturday noon in Berlin: Monday morning.
        (datetime(2026, 11, 28, 11, 0, tzinfo=UTC), "Europe/Berlin", "Mon 2026-11-30 09:00"),
        # Exactly at closing time: the next working morning.
        (datetime(2026, 11, 24, 17, 30, tzinfo=UTC), "Europe/London", "Wed 2026-11-25 09:00"),
    ],
)
def test_a_message_waits_for_working_hours(due: datetime, zone: str, expected: str) -> None:
    assert local(next_delivery(due, zone=zone, hours=HOURS), zone) == expected


def test_nine_oclock_stays_nine_oclock_across_a_daylight_saving_change() -> None:
    # Europe/London moves to summer time on Sunday 29 March 2026.
    before = next_delivery(
        datetime(2026, 3, 27, 20, 0, tzinfo=UTC), zone="Europe/London", hours=HOURS
    )
    after = next_delivery(
        datetime(2026, 3, 28, 20, 0, tzinfo=UTC), zone="Europe/London", hours=HOURS
    )
    assert local(after, "Europe/London") == "Mon 2026-03-30 09:00"
    assert after.astimezone(UTC).hour == 8  # 09:00 BST
    assert local(before, "Europe/London") == "Mon 2026-03-30 09:00"


def test_weekend_days_can_be_working_days() -> None:
    every_day = WorkingHours(start="08:00", end="12:00", days=["sat", "sun"])
    due = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday
    assert local(next_delivery(due, zone="UTC", hours=every_day), "UTC") == "Sat 2026-11-28 08:00"
