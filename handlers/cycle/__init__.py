"""The 90-day cycle of a pairing once it runs, one behaviour per module.

What falls due and when:
    schedule: the due rows a cycle owes (check-ins, calibration, reviews, inactivity, looks).
    due_pass: the due pass: loads a batch of claimed items once, dispatches each, queues
        the messages in working hours and folds late ones into a catch-up.
    registry: the table from each due kind to its handler, through which the pass dispatches.
    batch: what a handler is given (Due, Pair, Batch) and gives back (Message, CycleReport).

What happens when each falls due:
    checkins: a check-in, or a snoozed or rescheduled reminder: the nudge, and at-risk.
    reviews: the calibration, the mid-point, quarterly and end-of-cycle reviews, their surveys.
    inactivity: a silent pairing is asked whether to close.
    reminders: the plan and survey reminders to whoever still owes a step.

What people say back, and their own choices:
    answers: calibrate, rematch, continue, close, keep (the buttons of what fell due).
    reschedule: snooze and reschedule a check-in (RescheduleFlow).
    pause: pause, resume, and pauses that run out.
    leave: leaving the program (LeaveFlow, leave_program).
    ending: ending a pairing (end_pairing) and telling people (tell, tell_leads).
    status: where each pairing is in its cycle, for ``status``.
    commands: the cycle's chat commands.
"""
