"""Scheduling: the periodic tick that claims due work from the database and delivers the outbox.

The scheduling rule in DESIGN.md applies: the database, not APScheduler, is the record of
what is owed. The 90-day cycle (issue 6) lands here.
"""
