"""The checks every generated .ics passes find what RFC 5545 forbids."""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar

from handlers.meetings.ics import feed, problems, span_of

BROKEN = "\r\n".join(
    [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "BEGIN:VEVENT",
        "DTSTAMP:20261201T100000Z",
        "DTSTART;TZID=Europe/London:20261201T100000",
        "DTEND;TZID=Europe/London:20261201T104500",
        "DURATION:PT45M",
        "SUMMARY:one",
        "SUMMARY:two",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
)


def test_a_broken_calendar_is_reported_for_each_rule_it_breaks() -> None:
    found = problems(BROKEN)
    assert "Calendar must have a PRODID" in found
    assert "VEVENT lacks UID" in found
    assert "VEVENT has both DTEND and DURATION" in found
    assert "VEVENT has SUMMARY 2 times" in found
    assert "no VTIMEZONE for Europe/London" in found


def test_text_that_is_no_calendar_is_reported() -> None:
    assert problems("hello")


def test_a_feed_with_no_events_is_still_a_calendar() -> None:
    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    empty = feed([], name="Mentoring", span=span_of([now]), zone="Europe/London")
    assert problems(empty) == []
    calendar = icalendar.Calendar.from_ical(empty)
    assert calendar.events == [] and calendar["X-WR-CALNAME"] == "Mentoring"
