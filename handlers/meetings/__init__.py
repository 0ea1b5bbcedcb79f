"""Meetings in people's calendars: finding a time, booking it, invites and feeds.

- ``invites``: the iCalendar invite of a meeting, sent to both people of its pairing.
"""
