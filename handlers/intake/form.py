"""The intake questionnaire as one whole form (Slack's "Join as a mentee" modal).

Saved through :meth:`handlers.core.engine.Engine.submit` like every other form: the same
checks (``check_form``), then :func:`handlers.intake.chat.enroll`, where the chat flow ends
too. Its ``ref`` is the role (``mentee``, ``mentor``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from handlers.core.engine import FormHandler, FormResult, Turn
from handlers.core.messages import Form, Reply
from handlers.intake.chat import enroll
from storage import ConversationState, Role
from storage.queries import enrollments_of, with_role

#: What a submission names to be saved by :class:`IntakeForm`.
INTAKE_FORM = "intake"
UNKNOWN_ROLE = "That form is for a role this program no longer has; type join to start again."


class IntakeForm(FormHandler):
    """A role's whole questionnaire, prefilled with the person's earlier answers."""

    name = INTAKE_FORM

    async def build(self, turn: Turn, ref: str) -> Form | Reply:
        role = _role(turn, ref)
        if role is None:
            return Reply(UNKNOWN_ROLE)
        assert turn.person.id is not None
        enrollments = await enrollments_of(turn.session, turn.person.id, program=turn.program.id)
        existing = with_role(enrollments, role)
        return Form(
            name=INTAKE_FORM,
            ref=role.value,
            title=f"Join as a {role.value}",
            questions=tuple(turn.program.intake.for_role(role)),
            initial=tuple(existing.answers.items()) if existing is not None else (),
            intro=turn.program.name,
        )

    async def save(self, turn: Turn, ref: str, *, answers: dict[str, Any]) -> FormResult:
        """Enroll exactly as the chat does, and drop any half-finished chat intake."""
        role = _role(turn, ref)
        assert role is not None  # build() refused the form otherwise
        text = await enroll(turn, role=role, answers=answers)
        conn = await turn.session.connection()
        await conn.execute(
            sa.delete(ConversationState).where(
                sa.and_(
                    ConversationState.channel == turn.inbound.channel,  # type: ignore[arg-type]
                    ConversationState.user_key == turn.inbound.user_key,  # type: ignore[arg-type]
                )
            )
        )
        return FormResult([Reply(text)])


def _role(turn: Turn, ref: str) -> Role | None:
    return next((r for r in turn.program.roles if r.value == ref), None)
