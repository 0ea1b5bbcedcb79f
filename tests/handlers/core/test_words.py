"""Raw values in words: a fit in bands, a zone as its city and its clock against the reader's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handlers.core.words import city_of, clock_difference, fit_in_words, zone_in_words

WINTER = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
#: Between the US change to summer time (8 March 2026) and Europe's (29 March).
GAP_WEEKS = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("score", "words"),
    [
        (1.0, "a strong fit"),
        (0.70, "a strong fit"),
        (0.6999, "a good fit"),
        (0.50, "a good fit"),
        (0.49, "a fair fit"),
        (0.30, "a fair fit"),
        (0.29, "a partial fit"),
        (0.0, "a partial fit"),
    ],
)
def test_a_fit_is_said_in_bands(score: float, words: str) -> None:
    assert fit_in_words(score) == words


@pytest.mark.parametrize(
    ("zone", "city"),
    [
        ("Europe/London", "London"),
        ("America/New_York", "New York"),
        ("America/Argentina/Buenos_Aires", "Buenos Aires"),
        ("Asia/Kolkata", "Kolkata"),
        ("UTC", "UTC"),
        ("Etc/UTC", "UTC"),
        ("Etc/GMT+5", "UTC−5"),
        ("Etc/GMT-14", "UTC+14"),
    ],
)
def test_a_zone_is_named_after_its_city_or_else_its_offset(zone: str, city: str) -> None:
    assert city_of(zone, WINTER) == city


def test_the_same_zone_or_the_same_clock_is_the_same_time() -> None:
    assert zone_in_words("Europe/London", reader_zone="Europe/London", at=WINTER) == (
        "London, same time as you"
    )
    assert zone_in_words("Europe/Paris", reader_zone="Europe/Berlin", at=SUMMER) == (
        "Paris, same time as you"
    )


def test_utc_against_a_reader_on_utc_and_against_one_who_is_not() -> None:
    assert zone_in_words("UTC", reader_zone="Etc/UTC", at=SUMMER) == "UTC, same time as you"
    # London is on UTC in winter and an hour ahead of it in summer.
    assert zone_in_words("UTC", reader_zone="Europe/London", at=WINTER) == "UTC, same time as you"
    assert zone_in_words("UTC", reader_zone="Europe/London", at=SUMMER) == "UTC, 1 h behind you"
    assert zone_in_words("Europe/London", reader_zone="UTC", at=SUMMER) == (
        "London, 1 h ahead of you"
    )


def test_daylight_saving_is_taken_as_it_is_at_that_moment() -> None:
    def new_york_from_london(at: datetime) -> str:
        return zone_in_words("America/New_York", reader_zone="Europe/London", at=at)

    assert new_york_from_london(WINTER) == "New York, 5 h behind you"
    assert new_york_from_london(GAP_WEEKS) == "New York, 4 h behind you"
    assert new_york_from_london(SUMMER) == "New York, 5 h behind you"
    # The southern hemisphere changes the other way.
    assert clock_difference("Australia/Sydney", reader_zone="Europe/London", at=WINTER) == (
        "11 h ahead of you"
    )
    assert clock_difference("Australia/Sydney", reader_zone="Europe/London", at=SUMMER) == (
        "9 h ahead of you"
    )


def test_half_and_three_quarter_hour_zones_say_their_minutes() -> None:
    assert zone_in_words("Asia/Kolkata", reader_zone="Europe/London", at=WINTER) == (
        "Kolkata, 5 h 30 min ahead of you"
    )
    assert zone_in_words("Asia/Kolkata", reader_zone="Europe/London", at=SUMMER) == (
        "Kolkata, 4 h 30 min ahead of you"
    )
    assert zone_in_words("Asia/Kathmandu", reader_zone="Asia/Kolkata", at=WINTER) == (
        "Kathmandu, 15 min ahead of you"
    )
    assert zone_in_words("America/St_Johns", reader_zone="UTC", at=WINTER) == (
        "St Johns, 3 h 30 min behind you"
    )
    assert zone_in_words("Europe/London", reader_zone="Asia/Kolkata", at=WINTER) == (
        "London, 5 h 30 min behind you"
    )


def test_the_reader_can_be_named() -> None:
    assert zone_in_words(
        "Europe/London", reader_zone="America/New_York", at=WINTER, reader="Ana"
    ) == ("London, 5 h ahead of Ana")
    assert clock_difference(
        "Europe/Rome", reader_zone="Europe/Madrid", at=WINTER, reader="Lee"
    ) == ("same time as Lee")
