"""Intake by chat: the program's questionnaire for a role, one question at a time.

Steps: ``role`` (when the person did not say which) → ``update`` (already enrolled: update
the answers?) or ``rejoin`` (a mentee whose pairing ended: keep the answers and wait for a
new mentor, or update them) → ``question:<id>`` for each question → ``confirm`` (summary;
save, discard, or ``change`` an answer). ``back`` returns to the previous step; when a
question already has an answer (going back, updating, changing) ``keep`` keeps it.
"""

from __future__ import annotations

from typing import Any

from handlers.circles.circle_pool import facilitator_capacity
from handlers.core.engine import Flow, FlowState, Outcome, Turn
from handlers.core.errors import InvalidAnswer
from handlers.core.messages import Option, Prompt, PromptKind, Reply, plural
from handlers.core.program import Meaning, Program, Question, QuestionType
from handlers.core.questions import (
    expectation,
    format_answer,
    parse_answer,
    pick_option,
    prompt_for,
)
from handlers.intake.choosing import (
    access_to,
    join_command,
    program_choices,
    roles_phrase,
    unknown_program,
)
from handlers.intake.roles import (
    CIRCLE_ROLE_NAMES,
    circle_about,
    is_circles,
    role_label,
    role_name,
    role_named,
)
from handlers.people.lookups import pairings_of
from storage import OPEN_PAIRING, Enrollment, EnrollmentStatus, PairingStatus, Role
from storage.queries import enrollments_of, save_enrollment, with_role

YES, NO, CHANGE = "yes", "no", "change"
KEEP, UPDATE = "keep", "update"
REJOIN_LABELS = {
    KEEP: "Keep my answers and find me a new mentor",
    UPDATE: "Update my answers",
}
_YES_WORDS = {"yes", "y", "yeah", "yep", "ok", "okay", "sure", "save", "confirm"}
_NO_WORDS = {"no", "n", "nope", "discard"}
FLOW_HINT = "Type back, skip, cancel or help."


def describe_enrollment(
    status: str, *, role: str, capacity: int | None, circles: bool = False
) -> str:
    """A person's standing in one role, in a phrase (``circles``: in a circles program)."""
    if circles and role == Role.MENTEE and status == EnrollmentStatus.WAITING:
        return "enrolled as a circle member, waiting for a circle"
    if circles and role == Role.MENTEE and status == EnrollmentStatus.MATCHED:
        return "enrolled as a circle member, in a circle"
    if circles and role == Role.MENTOR and status == EnrollmentStatus.AVAILABLE:
        return "enrolled as a circle facilitator"
    if circles and role == Role.MENTEE and status == EnrollmentStatus.COMPLETED:
        return "a circle member whose circle has ended; type join to ask for a new circle"
    if role == Role.PEER and status in (EnrollmentStatus.WAITING, EnrollmentStatus.AVAILABLE):
        return "enrolled as a peer, waiting to be paired"
    if role == Role.PEER and status == EnrollmentStatus.MATCHED:
        return "enrolled as a peer, paired with a peer"
    if role == Role.PEER and status == EnrollmentStatus.COMPLETED:
        return "a peer whose pairing has ended"
    if status == EnrollmentStatus.WAITING:
        return "enrolled as a mentee, waiting for a match"
    if status == EnrollmentStatus.MATCHED:
        return "enrolled as a mentee, paired with a mentor"
    if status == EnrollmentStatus.AVAILABLE:
        room = f"room for {plural(capacity, 'mentee')}" if capacity else "room"
        return f"enrolled as a mentor with {room}"
    if status == EnrollmentStatus.PAUSED:
        named = CIRCLE_ROLE_NAMES.get(Role(role), role) if circles else role
        return f"enrolled as a {named}, paused"
    if status == EnrollmentStatus.COMPLETED:
        return "a mentee whose pairing has ended; type join to ask for a new mentor"
    return f"no longer enrolled as a {role}"


class IntakeFlow(Flow):
    """Walks a person through the intake questionnaire of a role and saves the enrollment."""

    name = "intake"

    async def start(self, turn: Turn, args: list[str]) -> Outcome:
        """The ``join`` command: begin the intake for the program and role named, or ask which.

        With several programs and none named, the programs the person may join are listed
        (:func:`handlers.intake.choosing.program_choices`); a program they may not join gets
        the one sentence that says why, and nothing changes.
        """
        program = turn.programs.get(args[0].lower()) if args else None
        if program is not None:
            args = args[1:]
        elif turn.programs.several:
            role_word = role_named(args[0]) if args else None
            if args and role_word is None:
                return _said(await unknown_program(turn, args[0]))
            return _said(await program_choices(turn, role=role_word))
        else:
            program = turn.programs.first
        access = await access_to(turn, program)
        roles = access.roles
        if not roles:
            return _said(Reply(access.why_not()))
        if args:
            role = role_named(args[0])
            if role is None or role not in program.roles:
                prefix = f"join {program.id} " if turn.programs.several else "join "
                offered = " or ".join(f"{prefix}{r.value}" for r in roles)
                where = program.name if turn.programs.several else "this program"
                return _said(Reply(f"{args[0]!r} is not a role in {where}. Type {offered}."))
            if role not in roles:
                command = join_command(program, roles)
                return _said(
                    Reply(
                        f"{access.why_not(role)} You can join as {roles_phrase(roles, program)}: "
                        f"type {command}.",
                        actions=(Option(command, f"Join as {roles_phrase(roles, program)}"),),
                    )
                )
            return await self._begin_role(turn, role, program=program)
        if len(roles) == 1:
            return await self._begin_role(turn, roles[0], program=program)
        data = {"history": [], "program": program.id, "roles": [r.value for r in roles]}
        state = FlowState(self.name, "role", data)
        return Outcome(self.ask(turn, state), state)

    def describe(self, state: FlowState) -> str:
        """Where the person is in the intake."""
        role = state.data.get("role")
        intake = f"your {role} intake" if role else "joining the program"
        if state.step.startswith("question:"):
            ids = state.data.get("order", [])
            qid = state.step.removeprefix("question:")
            number = ids.index(qid) + 1 if qid in ids else 1
            return f"question {number} of {len(ids)} of {intake}"
        if state.step == "confirm":
            return f"the last step of {intake}: checking your answers"
        return intake

    def ask(self, turn: Turn, state: FlowState) -> list[Reply]:
        """Ask the current step."""
        step = state.step
        if step == "role":
            return [
                Reply(
                    f"Great! How would you like to take part in {_program(turn, state).name}?",
                    prompt=Prompt(
                        PromptKind.SINGLE,
                        tuple(
                            Option(r.value, role_label(_program(turn, state), r))
                            for r in _roles(turn, state)
                        ),
                    ),
                    hint="Type cancel to stop.",
                )
            ]
        if step == "update":
            role = Role(state.data["role"])
            return [
                Reply(
                    f"You're already {state.data['standing']}. Do you want to update your "
                    f"{role.value} answers?",
                    prompt=_yes_no(),
                    hint="Type cancel to stop.",
                )
            ]
        if step == "rejoin":
            return [self._rejoin_question(turn, state)]
        if step == "confirm":
            return [self._summary(turn, state)]
        if step == "change":
            questions = self._questions(turn, state)
            return [
                Reply(
                    "Which answer do you want to change?",
                    prompt=Prompt(
                        PromptKind.SINGLE,
                        tuple(Option(q.id, q.prompt) for q in questions),
                    ),
                    hint="Type back to return to the summary.",
                )
            ]
        question = self._question(turn, state)
        return [self._ask_question(turn, state, question)]

    async def answer(self, turn: Turn, state: FlowState) -> Outcome:
        """Take the answer to the current step."""
        step = state.step
        inbound = turn.inbound
        if step == "role":
            roles = _roles(turn, state)
            try:
                picked = pick_option(
                    turn.text,
                    values=inbound.action.values if inbound.action else None,
                    options=[(r.value, role_label(_program(turn, state), r)) for r in roles],
                )
            except InvalidAnswer as problem:
                return self._reask(turn, state, str(problem))
            return await self._begin_role(
                turn, Role(picked), state=state, program=_program(turn, state)
            )
        if step == "update":
            choice = _yes_no_answer(turn)
            if choice is None:
                return self._reask(turn, state, "Please answer yes or no.")
            if choice == NO:
                return Outcome([Reply("OK, your answers stay as they are.")], None)
            return self._go(turn, state, self._first_step(turn, state))
        if step == "rejoin":
            return await self._rejoin(turn, state)
        if step == "confirm":
            return await self._confirm(turn, state)
        if step == "change":
            questions = self._questions(turn, state)
            try:
                qid = pick_option(
                    turn.text,
                    values=inbound.action.values if inbound.action else None,
                    options=[(q.id, q.prompt) for q in questions],
                )
            except InvalidAnswer:
                return self._reask(
                    turn, state, f"Please type the number of a question (1 to {len(questions)})."
                )
            data = {**state.data, "editing": True}
            return self._go(turn, FlowState(self.name, state.step, data), f"question:{qid}")
        question = self._question(turn, state)
        answers = dict(state.data.get("answers", {}))
        if inbound.action is None and turn.text.lower() == "keep" and question.id in answers:
            return self._advance(turn, state, question)
        try:
            value = parse_answer(question, text=turn.text, action=inbound.action)
        except InvalidAnswer as problem:
            return self._reask(turn, state, str(problem))
        answers[question.id] = value
        return self._advance(
            turn, FlowState(self.name, state.step, {**state.data, "answers": answers}), question
        )

    async def back(self, turn: Turn, state: FlowState) -> Outcome:
        """Return to the previous step, keeping the answers given so far."""
        history = list(state.data.get("history", []))
        if not history:
            return self._reask(
                turn,
                state,
                "This is the first step, so there's nothing to go back to. Type cancel to stop.",
            )
        previous = history.pop()
        data = {**state.data, "history": history}
        if state.step.startswith("question:") and data.get("editing"):
            data["editing"] = False
        next_state = FlowState(self.name, previous, data)
        return Outcome(self.ask(turn, next_state), next_state)

    async def skip(self, turn: Turn, state: FlowState) -> Outcome:
        """Skip an optional question."""
        if not state.step.startswith("question:"):
            return self._reask(turn, state, "Only optional questions can be skipped.")
        question = self._question(turn, state)
        if question.required:
            return self._reask(
                turn,
                state,
                f"This question is required, so it can't be skipped. {expectation(question)}",
            )
        answers = dict(state.data.get("answers", {}))
        answers[question.id] = None
        return self._advance(
            turn, FlowState(self.name, state.step, {**state.data, "answers": answers}), question
        )

    def cancelled(self, state: FlowState) -> str:
        """What to say on cancel."""
        if state.data.get("updating"):
            return "Cancelled; your saved answers are unchanged."
        return "Cancelled; nothing was saved. Type join whenever you'd like to start again."

    # -- steps --------------------------------------------------------------------------

    async def _begin_role(
        self, turn: Turn, role: Role, *, program: Program, state: FlowState | None = None
    ) -> Outcome:
        questions = program.intake.for_role(role)
        history = [*state.data.get("history", []), state.step] if state else []
        data: dict[str, Any] = {
            "program": program.id,
            "role": role.value,
            "order": [q.id for q in questions],
            "answers": {},
            "history": history,
        }
        if state is not None and state.data.get("roles"):
            data["roles"] = state.data["roles"]  # for back to the role step
        enrollments = await enrollments_of(turn.session, _id(turn), program=program.id)
        existing = with_role(enrollments, role)
        if existing is not None and await _pairing_ended(turn, existing, data["order"]):
            data["answers"] = {k: v for k, v in existing.answers.items() if k in data["order"]}
            data["updating"] = True
            data["standing"] = existing.status
            next_state = FlowState(self.name, "rejoin", data)
            return Outcome(self.ask(turn, next_state), next_state)
        if existing is not None and existing.status not in (
            EnrollmentStatus.LEFT,
            EnrollmentStatus.COMPLETED,
        ):
            data["answers"] = {k: v for k, v in existing.answers.items() if k in data["order"]}
            data["updating"] = True
            data["standing"] = describe_enrollment(
                existing.status,
                role=existing.role,
                capacity=existing.capacity,
                circles=is_circles(program),
            )
            next_state = FlowState(self.name, "update", data)
            return Outcome(self.ask(turn, next_state), next_state)
        first = FlowState(self.name, f"question:{questions[0].id}", data)
        where = f" in {program.name}" if turn.programs.several else ""
        about = f"{circle_about(program)} " if is_circles(program) else ""
        intro = Reply(
            f"Let's get you enrolled as a {role_name(program, role)}{where}. {about}"
            f"I'll ask {len(questions)} "
            "questions, one at a time; your answers are saved as you go, so you can stop and "
            "come back later."
        )
        return Outcome([intro, *self.ask(turn, first)], first)

    async def _rejoin(self, turn: Turn, state: FlowState) -> Outcome:
        """Keep the answers and go back to the waitlist, or walk the questions again."""
        inbound = turn.inbound
        try:
            choice = pick_option(
                turn.text,
                values=inbound.action.values if inbound.action else None,
                options=list(_rejoin_labels(_program(turn, state)).items()),
            )
        except InvalidAnswer as problem:
            return self._reask(turn, state, str(problem))
        if choice == UPDATE:
            note = Reply("Here are the questions again with your answers so far.")
            return self._go(turn, state, self._first_step(turn, state), note=note)
        questions = self._questions(turn, state)
        answers = state.data.get("answers", {})
        missing = [q for q in questions if q.required and answers.get(q.id) in (None, "", [])]
        if missing:
            # The program file gained a required question since they last answered: ask
            # only that, then show the summary.
            data = {**state.data, "editing": True}
            return self._go(
                turn,
                FlowState(self.name, state.step, data),
                f"question:{missing[0].id}",
                note=Reply(
                    f"One new question before I can find you a {_partner(_program(turn, state))}:"
                ),
            )
        await save_enrollment(
            turn.session,
            person_id=_id(turn),
            program=_program(turn, state).id,
            role=Role.MENTEE,
            answers={q.id: answers.get(q.id) for q in questions},
            capacity=None,
            now=turn.now,
        )
        if state.data.get("standing") == EnrollmentStatus.WAITING:
            place = "Your answers stay as they are and you keep your place on the waitlist"
        else:
            place = "I've kept your answers and put you back on the waitlist"
        return Outcome(
            [
                Reply(
                    f"{place}: the next match round will look for a new "
                    f"{_partner(_program(turn, state))} for you, and I'll message you as soon "
                    "as there's a proposal. Type status any time to see where you stand."
                )
            ],
            None,
        )

    def _first_step(self, turn: Turn, state: FlowState) -> str:
        return f"question:{self._questions(turn, state)[0].id}"

    def _go(self, turn: Turn, state: FlowState, step: str, *, note: Reply | None = None) -> Outcome:
        history = [*state.data.get("history", []), state.step]
        next_state = FlowState(self.name, step, {**state.data, "history": history})
        replies = self.ask(turn, next_state)
        return Outcome([note, *replies] if note else replies, next_state)

    def _advance(self, turn: Turn, state: FlowState, question: Question) -> Outcome:
        questions = self._questions(turn, state)
        if state.data.get("editing"):
            data = {**state.data, "editing": False}
            return self._go(turn, FlowState(self.name, state.step, data), "confirm")
        index = [q.id for q in questions].index(question.id)
        step = f"question:{questions[index + 1].id}" if index + 1 < len(questions) else "confirm"
        return self._go(turn, state, step)

    async def _confirm(self, turn: Turn, state: FlowState) -> Outcome:
        choice = _confirm_answer(turn)
        if choice is None:
            return self._reask(
                turn,
                state,
                "Please answer yes to save, no to discard, or change to edit an answer.",
            )
        if choice == NO:
            return Outcome([Reply(self.cancelled(state))], None)
        if choice == CHANGE:
            return self._go(turn, state, "change")
        role = Role(state.data["role"])
        questions = self._questions(turn, state)
        answers = state.data.get("answers", {})
        missing = [q for q in questions if q.required and answers.get(q.id) in (None, "", [])]
        if missing:
            # The program file gained a required question since this intake started.
            return self._go(
                turn,
                state,
                f"question:{missing[0].id}",
                note=Reply("One more question before I can save:"),
            )
        text = await enroll(turn, program=_program(turn, state), role=role, answers=answers)
        return Outcome([Reply(text)], None)

    # -- rendering ----------------------------------------------------------------------

    def _questions(self, turn: Turn, state: FlowState) -> list[Question]:
        return _program(turn, state).intake.for_role(Role(state.data["role"]))

    def _question(self, turn: Turn, state: FlowState) -> Question:
        qid = state.step.removeprefix("question:")
        questions = self._questions(turn, state)
        for question in questions:
            if question.id == qid:
                return question
        # The program file changed under a paused intake: continue at the first gap.
        answers = state.data.get("answers", {})
        return next((q for q in questions if q.id not in answers), questions[-1])

    def _ask_question(self, turn: Turn, state: FlowState, question: Question) -> Reply:
        questions = self._questions(turn, state)
        number = [q.id for q in questions].index(question.id) + 1
        text = f"Question {number} of {len(questions)}: {question.prompt}"
        if question.help:
            text += f"\n{question.help}"
        answers = state.data.get("answers", {})
        hint = FLOW_HINT if not question.required else "Type back, cancel or help."
        if question.id in answers:
            current = format_answer(question, answers[question.id])
            text += f"\nYour answer so far: {current}."
            hint = f"Type keep to keep it. {hint}"
        if question.type is QuestionType.MULTI_CHOICE:
            how_many = expectation(question).removeprefix("Please pick").strip()
            text += f"\n{how_many[0].upper()}{how_many[1:]}"
        return Reply(text, prompt=prompt_for(question), hint=hint)

    def _rejoin_question(self, turn: Turn, state: FlowState) -> Reply:
        answers = state.data.get("answers", {})
        # Someone who left the program may never have been paired.
        program = _program(turn, state)
        ended = (
            ""
            if state.data.get("standing") == EnrollmentStatus.LEFT
            else f" Your last {'circle' if is_circles(program) else 'pairing'} has ended."
        )
        return Reply(
            f"Welcome back!{ended} Shall I keep the answers you gave before and find you a "
            f"new {_partner(program)}, or would you like to update them first?",
            title=f"Your {role_name(program, Role.MENTEE)} answers",
            fields=tuple(
                (q.prompt, format_answer(q, answers[q.id]))
                for q in self._questions(turn, state)
                if answers.get(q.id) not in (None, "", [])
            ),
            prompt=Prompt(
                PromptKind.SINGLE,
                tuple(Option(v, label) for v, label in _rejoin_labels(program).items()),
            ),
            hint="Type cancel to stop.",
        )

    def _summary(self, turn: Turn, state: FlowState) -> Reply:
        answers = state.data.get("answers", {})
        fields = tuple(
            (q.prompt, format_answer(q, answers.get(q.id))) for q in self._questions(turn, state)
        )
        return Reply(
            "Here is what you told me. Shall I save it?",
            title=f"Your {role_name(_program(turn, state), Role(state.data['role']))} answers",
            fields=fields,
            prompt=Prompt(
                PromptKind.SINGLE,
                (
                    Option(YES, "Yes, save"),
                    Option(NO, "No, discard"),
                    Option(CHANGE, "Change an answer"),
                ),
            ),
            hint="Type back to revisit the last question.",
        )

    def _reask(self, turn: Turn, state: FlowState, problem: str) -> Outcome:
        """Say what was wrong and ask the same step again; nothing changes."""
        return Outcome([Reply(problem), *self.ask(turn, state)], state, changed=False)


def _program(turn: Turn, state: FlowState) -> Program:
    """The program an intake is for (flows saved before programs were named: the first)."""
    named = state.data.get("program")
    return turn.programs.of(named) if named else turn.programs.first


def _roles(turn: Turn, state: FlowState) -> list[Role]:
    """The roles the role step offers: the ones open to the person when ``join`` asked."""
    named = state.data.get("roles")
    program = _program(turn, state)
    if not named:
        return list(program.roles)
    return [r for r in program.roles if r.value in named] or list(program.roles)


def _partner(program: Program) -> str:
    """What a waiting mentee is waiting for: ``mentor``, or ``circle``."""
    return "circle" if is_circles(program) else "mentor"


def _rejoin_labels(program: Program) -> dict[str, str]:
    """The rejoin step's choices, in the program's words."""
    return {**REJOIN_LABELS, KEEP: f"Keep my answers and find me a new {_partner(program)}"}


def _said(reply: Reply) -> Outcome:
    """A reply that starts nothing and changes nothing."""
    return Outcome([reply], None, changed=False)


def _id(turn: Turn) -> int:
    assert turn.person.id is not None
    return turn.person.id


async def _pairing_ended(turn: Turn, enrollment: Enrollment, question_ids: list[str]) -> bool:
    """Whether a mentee with answers comes back after a pairing ended, with none open now."""
    if enrollment.role != Role.MENTEE.value or not any(
        enrollment.answers.get(qid) not in (None, "", []) for qid in question_ids
    ):
        return False
    if enrollment.status in (EnrollmentStatus.COMPLETED, EnrollmentStatus.LEFT):
        statuses: tuple[PairingStatus, ...] = OPEN_PAIRING
    elif enrollment.status == EnrollmentStatus.WAITING:
        # Back on the waitlist because their mentor left: only if nothing is proposed yet.
        statuses = (*OPEN_PAIRING, PairingStatus.ENDED)
    else:
        return False
    pairings = [
        p
        for p in await pairings_of(
            turn.session,
            turn.programs.of(enrollment.program),
            person_id=_id(turn),
            statuses=statuses,
        )
        if p.mentee_id == _id(turn)
    ]
    if any(p.status != PairingStatus.ENDED for p in pairings):
        return False
    return enrollment.status != EnrollmentStatus.WAITING or bool(pairings)


def _yes_no() -> Prompt:
    return Prompt(PromptKind.SINGLE, (Option(YES, "Yes"), Option(NO, "No")))


def _yes_no_answer(turn: Turn) -> str | None:
    action = turn.inbound.action
    if action is not None:
        return action.values[0] if action.values and action.values[0] in (YES, NO) else None
    word = turn.text.lower().rstrip(".!")
    if word in _YES_WORDS or word == "1":
        return YES
    if word in _NO_WORDS or word == "2":
        return NO
    return None


def _confirm_answer(turn: Turn) -> str | None:
    action = turn.inbound.action
    if action is not None:
        value = action.values[0] if action.values else None
        return value if value in (YES, NO, CHANGE) else None
    word = turn.text.lower().rstrip(".!")
    if word in _YES_WORDS or word in ("1", "yes, save"):
        return YES
    if word in _NO_WORDS or word in ("2", "no, discard"):
        return NO
    if word in ("3", "change", "edit", "change an answer"):
        return CHANGE
    return None


async def enroll(turn: Turn, *, program: Program, role: Role, answers: dict[str, Any]) -> str:
    """Save a complete questionnaire as the person's enrollment in ``role``.

    The chat flow and every form (Slack modal, Teams card) end here.

    Returns:
        The sentence that tells the person what happens next.
    """
    questions = program.intake.for_role(role)
    stored = {q.id: answers.get(q.id) for q in questions}
    capacity_question = next((q for q in questions if q.meaning is Meaning.CAPACITY), None)
    capacity = stored.get(capacity_question.id) if capacity_question else None
    _, fresh = await save_enrollment(
        turn.session,
        person_id=_id(turn),
        program=program.id,
        role=role,
        answers=stored,
        capacity=int(capacity) if isinstance(capacity, int) else None,
        now=turn.now,
    )
    if not fresh:
        return "Saved. Your answers are updated."
    if role is Role.PEER:
        return (
            f"You're enrolled as a peer in {program.name}. You're now waiting to be paired: "
            "the program lead pairs everyone at once with a colleague at a similar level, "
            "and I'll message you as soon as there's a proposal. Type status any time."
        )
    where = f" in {program.name}" if turn.programs.several else ""
    if is_circles(program) and role is Role.MENTEE:
        return (
            f"You're enrolled as a circle member{where}. You're now waiting for a circle: the "
            "program lead forms circles for everyone waiting at once, and I'll message you as "
            "soon as there's one for you to accept or decline. Type status any time to see "
            "where you stand."
        )
    if is_circles(program):
        circles = facilitator_capacity(
            program, answered=capacity if isinstance(capacity, int) else None
        )
        return (
            f"Thank you! You're enrolled as a circle facilitator{where}, for up to "
            f"{plural(circles, 'circle')} at a time. I'll message you when there's a circle "
            "for you to accept or decline. Type status any time."
        )
    if role is Role.MENTEE:
        return (
            f"You're enrolled as a mentee{where}. You're now waiting for a match: the program "
            "lead runs matching for everyone at once, and I'll message you as soon as "
            "there's a mentor proposal for you. Type status any time to see where you stand."
        )
    room = f" with room for {plural(capacity, 'mentee')}" if isinstance(capacity, int) else ""
    return (
        f"Thank you! You're enrolled as a mentor{where}{room}. I'll message you when there's "
        "a mentee proposal for you to accept or decline. Type status any time."
    )
