"""Scheduling: the periodic tick that claims due work from the database and delivers the outbox.

The scheduling rule in DESIGN.md applies: the database, not APScheduler, is the record of
what is owed. Each worker here (due items in ``due``, messages in ``outbox``, note
summaries in ``summaries``) takes its work through the one lease/claim/lock-in mechanism
in ``claims``.
"""
