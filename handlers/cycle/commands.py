"""The cycle's chat commands, in the order help lists them.

``pause``, ``resume`` (handlers.cycle.pause), ``leave`` (handlers.cycle.leave), and the
words behind the buttons of the cycle's messages: the answers (handlers.cycle.answers),
``snooze`` and ``reschedule`` (handlers.cycle.reschedule).
"""

from __future__ import annotations

from handlers.core.engine import Command
from handlers.cycle import answers, leave, pause, reschedule


def commands(
    reschedule_flow: reschedule.RescheduleFlow, leave_flow: leave.LeaveFlow
) -> list[Command]:
    """The cycle's commands: pause, resume, leave, and the answers behind buttons."""
    return (
        pause.commands()
        + leave.commands(leave_flow)
        + answers.commands()
        + reschedule.commands(reschedule_flow)
    )
