"""The intake questionnaire as one whole form (Slack's "Join as a mentee" modal).

Saved through :meth:`handlers.core.engine.Engine.submit` like every other form: the same
checks (``check_form``), then :func:`handlers.intake.chat.enroll`, where the chat flow ends
too. Its ``ref`` names the program and the role (``leadership-2027:mentee``); a bare role
(forms opened before programs were named) means the file's first program.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from handlers.core.engine import FormHandler, FormResult, Turn
from handlers.core.messages import Form, Reply
from handlers.core.program import Program
from handlers.core.programs import Programs
from handlers.intake.chat import enroll
from handlers.intake.choosing import access_to
from storage import ConversationState, Role
from storage.queries import enrollments_of, with_role

#: What a submission names to be saved by :class:`IntakeForm`.
INTAKE_FORM = "intake"
UNKNOWN_ROLE = "That form is for a role this program no longer has; type join to start again."


class IntakeForm(FormHandler):
    """A role's whole questionnaire, prefilled with the person's earlier answers."""

    name = INTAKE_FORM

    async def build(self, turn: Turn, ref: str) -> Form | Reply:
        target = intake_target(turn.programs, ref)
        if target is None:
            return Reply(UNKNOWN_ROLE)
        program, role = target
        assert turn.person.id is not None
        access = await access_to(turn, program)
        if role not in access.roles:
            # The same rules as the chat's join: a modal opened from an old button, or a
            # role the person may not take, saves nothing.
            return Reply(access.why_not(role))
        enrollments = await enrollments_of(turn.session, turn.person.id, program=program.id)
        existing = with_role(enrollments, role)
        return Form(
            name=INTAKE_FORM,
            ref=f"{program.id}:{role.value}",
            title=f"Join as a {role.value}",
            questions=tuple(program.intake.for_role(role)),
            initial=tuple(existing.answers.items()) if existing is not None else (),
            intro=program.name,
        )

    async def save(self, turn: Turn, ref: str, *, answers: dict[str, Any]) -> FormResult:
        """Enroll exactly as the chat does, and drop any half-finished chat intake."""
        target = intake_target(turn.programs, ref)
        assert target is not None  # build() refused the form otherwise
        program, role = target
        text = await enroll(turn, program=program, role=role, answers=answers)
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


def intake_target(programs: Programs, ref: str) -> tuple[Program, Role] | None:
    """The program and role an intake form's ``ref`` names, or None if there is no such pair.

    Archived programs take no one, so their forms are refused too.
    """
    program_id, _, role_name = ref.rpartition(":")
    program = programs.get(program_id) if program_id else programs.first
    if program is None or program.archived:
        return None
    role = next((r for r in program.roles if r.value == role_name), None)
    return (program, role) if role is not None else None
