"""Meetings in people's calendars: finding a time, booking it, invites and feeds.

- ``slots``: finding three times inside both people's working hours (pure).
- ``occurrences``: a booked one-off or series as its occurrences (pure).
- ``booking``: the ``meeting`` table as the rest asks it (busy times, a pair's meeting).
- ``offers``: ``schedule``, ``pick-meeting``, ``other-times``.
- ``changes``: ``move-meeting``, ``cancel-meeting``.
- ``commands``: the meetings' chat commands.
- ``invites``: the iCalendar invite of a meeting, sent to both people of its pairing.
"""
