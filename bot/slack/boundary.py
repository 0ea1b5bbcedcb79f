"""Slack's one error boundary: what a person reads, and the log, when a turn or form fails.

A typed message, a click and a slash command are turns answered in the DM; a submitted
modal is answered on the modal. Both run inside :class:`Boundary`, which differs between
them only by its :class:`Surface`: where the person is answered, which apology they read,
and whether the failure resets their conversation.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass
from types import TracebackType

from handlers import UserError, log_failure

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Surface:
    """Where the boundary answers a person, and what a failure undoes.

    A turn is answered in the DM, and a failure resets the flow it may have broken; a
    submitted modal is answered on the modal, and a failure resets nothing (a form holds
    no flow, and the person may be in the middle of one).
    """

    #: The workspace and the Slack user the work is for.
    team: str
    user: str
    _: KW_ONLY
    #: What the log line calls the work: ``turn``, or ``form NAME``.
    work: str
    #: Shows the person one sentence: a problem they can fix, or the apology.
    show: Callable[[str], Awaitable[None]]
    #: The apology for a failure, with ``{reference}``: TURN_FAILED or FORM_FAILED.
    apology: str
    #: Resets the conversation of the person (by id) after a failure; None to leave it.
    reset: Callable[[int], Awaitable[None]] | None = None


class Boundary:
    """An async context that turns a failed turn or form into a sentence and a log line.

    A :class:`UserError` is the sentence the person reads. Any other exception is logged
    once, through :func:`handlers.log_failure`: its class and place, a reference, and the
    ids of who it happened to, never the text nor the error's message (either may hold a
    private answer). The person reads the surface's apology with that reference, after
    the reset, if the surface has one. Either way the exception goes no further; a
    cancellation is not the boundary's to answer.

    Args:
        surface: Where the person is answered and what a failure undoes.
    """

    def __init__(self, surface: Surface) -> None:
        self.surface = surface
        #: The person the work is for; the work fills it in once it has identified them.
        self.person_id: int | None = None

    async def __aenter__(self) -> Boundary:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> bool:
        surface = self.surface
        if isinstance(error, UserError):
            await surface.show(str(error))
            return True
        if not isinstance(error, Exception):
            return False
        reference = log_failure(
            log,
            f"slack {surface.work} failed",
            error=error,
            team=surface.team,
            user=surface.user,
            person=self.person_id,
        )
        if surface.reset is not None and self.person_id is not None:
            try:
                await surface.reset(self.person_id)
            except Exception:
                # The database itself may be what failed; the apology still goes out.
                log.warning("slack: could not reset the conversation after a failure")
        await surface.show(surface.apology.format(reference=reference))
        return True
