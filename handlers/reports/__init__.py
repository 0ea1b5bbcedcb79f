"""Reports for program leads, one module per report.

catalogue (the kinds on offer, running one with its audit, the ``report`` command),
suppression (the one small-group policy: how a count, share or average of a few reads),
queries (the tables and SQL pieces reports share), sql (what SQLite and PostgreSQL spell
differently), anonymity (k-anonymity of the export's rows), and a module per report:
overview, cadence, at_risk, milestones, mentors, feedback, circles (a circles program by
circle size, and the circle SQL the others share), equity, export, ops.
"""
