"""Mentor circles: a facilitator and a small group of members, in a ``type: circles`` program.

- ``formation``: the circles of the whole pool at once, with their reasons and how close to
  the best possible they are; ``circle_pool`` reads the pool and scores it,
  ``circle_solver`` (CP-SAT) and ``circle_search`` (large pools) form the circles,
  ``circle_words`` says why.
- ``review``, ``proposals``, ``answers``, ``lapses``: the lead approves a round, everyone in
  a circle is asked, their answers start or dissolve it, and a proposal nobody finished
  answering is reminded of and lapses.
- ``lifecycle``: a circle's people, what is said to all of them, and its start.
- ``erasure``: someone in a circle is erased (``privacy forget``); the circle goes on
  without them, or ends kindly when they facilitated it; ``export``: their circle rows in
  ``my-data``.
"""
