"""The checks every generated .ics passes find what RFC 5545 forbids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar

from handlers.meetings.ics import Party, feed, fold, invite, name_forms, problems, span_of, unfold
from storage import Meeting

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


def _invite_with(name: str, email: str) -> str:
    moment = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    meeting = Meeting(
        pairing_id=1,
        program="p",
        status="booked",
        uid="meeting-1@mentorbot.test",
        minutes=45,
        starts_at=moment,
        every_days=14,
        until=moment + timedelta(days=70),
        created_at=moment,
        updated_at=moment,
    )
    return invite(
        meeting,
        mentor=Party("Ana Lima", "ana@x.com"),
        mentee=Party(name, email),
        zone="Europe/London",
        now=moment,
    )


#: A name with what TEXT escapes (``,`` ``;`` ``\``) and RFC 6868 doubles (``^``), long
#: and non-ASCII enough that lines fold inside it and inside its UTF-8 characters' rows.
ODD_NAME = "Łucja Żółtowska-Brzęczyszczykiewicz, de la Fontaine; Mañana\\Jr ^III"
ODD_EMAIL = "lucja.zoltowska-brzeczyszczykiewicz.de-la-fontaine@mentoring.example.co.uk"


def test_folding_an_unfolded_invite_gives_back_the_file_as_written() -> None:
    written = _invite_with(ODD_NAME, ODD_EMAIL)
    assert unfold(written) != written
    assert fold(unfold(written)) == written


def test_every_mention_of_a_name_in_an_invite_is_one_of_its_forms() -> None:
    text = unfold(_invite_with(ODD_NAME, ODD_EMAIL))
    # The name is in the title and the attendee's CN; each time in one of its forms.
    rest = text
    for form in sorted(name_forms(ODD_NAME), key=len, reverse=True):
        rest = rest.replace(form, "")
    for fragment in ("Łucja", "Brzęczyszczykiewicz", "Mañana", "III"):
        assert fragment in text and fragment not in rest
