"""Mentor circles: a facilitator and a small group of members, in a ``type: circles`` program.

- ``formation``: the circles of the whole pool at once, with their reasons and how close to
  the best possible they are; ``circle_pool`` reads the pool and scores it,
  ``circle_solver`` (CP-SAT) and ``circle_search`` (large pools) form the circles,
  ``circle_words`` says why.
- ``lifecycle``: a circle's people, what is said to all of them, and its start.
"""
