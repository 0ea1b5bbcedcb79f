"""The meetings' chat commands, in the order help lists them.

``schedule`` (find a time: handlers.meetings.offers), ``move-meeting`` and
``cancel-meeting`` (handlers.meetings.changes), and the words behind the offer's buttons:
``pick-meeting OFFER SLOT`` and ``other-times OFFER``.
"""

from __future__ import annotations

from handlers.core.engine import Command
from handlers.meetings import changes, offers


def commands() -> list[Command]:
    """``schedule`` and the offer's buttons (``pick-meeting``, ``other-times``)."""
    return [
        Command(
            "schedule",
            "find a time to meet: I offer your pair three times inside both your working "
            "hours (add once for a one-off)",
            offers.schedule,
            usage="[PAIRING] [once]",
            aliases=("find-a-time",),
            mid_flow=r"(?i)^schedule\s+\d+(\s+once)?$",
            pairs_only=True,
        ),
        Command(
            "pick-meeting",
            "book one of the times offered",
            offers.pick,
            usage="NUMBER SLOT [once]",
            listed=False,
            mid_flow=r"(?i)^pick-meeting\s+\d+\s+\d+(\s+once)?$",
        ),
        Command(
            "other-times",
            "ask for other times than the ones offered",
            offers.other_times,
            usage="NUMBER",
            listed=False,
            mid_flow=r"(?i)^other-times\s+\d+$",
        ),
    ]


def change_commands() -> list[Command]:
    """``move-meeting`` (also ``reschedule-meeting``) and ``cancel-meeting``.

    ``reschedule N`` stays the check-in nudge's button (a reminder on another day); a
    meeting moves with ``move-meeting N``.
    """
    return [
        Command(
            "move-meeting",
            "move your next meeting (or the one on DAY, or the whole series)",
            changes.move,
            usage="[PAIRING] [DAY] [to DAY HH:MM] [series]",
            aliases=("reschedule-meeting",),
            pairs_only=True,
        ),
        Command(
            "cancel-meeting",
            "cancel your next meeting (or the one on DAY, or the whole series)",
            changes.cancel,
            usage="[PAIRING] [DAY|series]",
            pairs_only=True,
        ),
    ]
