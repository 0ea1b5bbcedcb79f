"""Mentor circles: a facilitator and a small group of members, in a ``type: circles`` program.

- ``formation``: the circles of the whole pool at once (CP-SAT), with their reasons and how
  close to the best possible they are.
- ``lifecycle``: a circle's people, what is said to all of them, and its start.
"""
