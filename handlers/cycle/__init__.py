"""The 90-day cycle of a pairing once it runs: what it owes as due rows (schedule), what
happens when each falls due (running), and reminders of the next step (reminders)."""
