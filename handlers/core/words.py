"""Raw values in the words people read: how well a pair fits, and where someone's clock is.

Matching scores a fit between 0 and 1. A program lead reviews rounds by that number
("fit 0.82", next to ``matching.min_fit``); mentees and mentors read it as words
(:func:`fit_in_words`). The bands, strongest first:

* 0.70 and above: "a strong fit". With the default weights a pair reaches it when the
  mentor covers the competencies the mentee wants and the two share working hours, cross
  functions or share formats as well.
* 0.50 up to 0.70: "a good fit": most of the wanted competencies, and some of the rest.
* 0.30 up to 0.50: "a fair fit": some of what the mentee asked for.
* below 0.30: "a partial fit": little beyond working hours in common (a round proposes
  such a pair only when no mentor fits better, or a lead pairs them by hand).

Nobody reads an IANA zone id ("Europe/London"): a zone is its city and how far its clock
is from the reader's (:func:`zone_in_words`: "London, 1 h behind you"), at the moment the
message is built, so daylight saving on either side is taken into account.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

#: The least fit for each wording, strongest first (see the module's docstring).
FIT_BANDS = (
    (0.70, "a strong fit"),
    (0.50, "a good fit"),
    (0.30, "a fair fit"),
)
WEAKEST_FIT = "a partial fit"
#: Zones named after no city: Etc/GMT+5, UTC, EST, ... are shown by their offset.
_NO_CITY = ("Etc/",)


def fit_in_words(score: float) -> str:
    """A fit as a mentee or mentor reads it: ``a strong fit`` (see the module's bands)."""
    for least, words in FIT_BANDS:
        if score >= least:
            return words
    return WEAKEST_FIT


def _offset(zone: str, at: datetime) -> timedelta:
    """How far the zone's clock is from UTC at ``at``."""
    return at.astimezone(ZoneInfo(zone)).utcoffset() or timedelta()


def _duration(minutes: int) -> str:
    """``1 h``, ``5 h 30 min``, ``45 min``."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def utc_offset(zone: str, at: datetime) -> str:
    """The zone's offset from UTC at ``at``: ``UTC``, ``UTC+1``, ``UTC−5``, ``UTC+5:30``."""
    minutes = round(_offset(zone, at).total_seconds() / 60)
    if not minutes:
        return "UTC"
    sign = "+" if minutes > 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def city_of(zone: str, at: datetime) -> str:
    """The place a zone is named after: ``Europe/London`` → ``London``.

    ``America/Argentina/Buenos_Aires`` → ``Buenos Aires``. A zone named after no city
    (``UTC``, ``Etc/GMT+5``, ``EST``) is its offset from UTC at ``at`` (``UTC−5``).
    """
    if "/" not in zone or zone.startswith(_NO_CITY):
        return utc_offset(zone, at)
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def clock_difference(zone: str, *, reader_zone: str, at: datetime, reader: str = "you") -> str:
    """How far a zone's clock is from the reader's at ``at``, in words.

    ``same time as you``, ``1 h behind you``, ``5 h 30 min ahead of Ana``.

    Args:
        zone: The zone described (an IANA name).
        reader_zone: The zone it is compared with: the reader's.
        at: The moment compared (both offsets as they are then).
        reader: Who the reader is in the sentence (``you``, or a first name).
    """
    minutes = round((_offset(zone, at) - _offset(reader_zone, at)).total_seconds() / 60)
    if not minutes:
        return f"same time as {reader}"
    if minutes > 0:
        return f"{_duration(minutes)} ahead of {reader}"
    return f"{_duration(-minutes)} behind {reader}"


def zone_in_words(zone: str, *, reader_zone: str, at: datetime, reader: str = "you") -> str:
    """A zone as a person reads it: its city and its clock against the reader's.

    ``London, 1 h behind you``; ``Kolkata, 5 h 30 min ahead of you``; ``Berlin, same time
    as Ana``. See :func:`clock_difference` for the arguments.
    """
    difference = clock_difference(zone, reader_zone=reader_zone, at=at, reader=reader)
    return f"{city_of(zone, at)}, {difference}"
