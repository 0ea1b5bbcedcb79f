"""Forms: a whole questionnaire at once where the channel can show one, else one question
at a time.

A command that wants answers calls :func:`open_form`. On Slack and Teams
(``Inbound.forms``) the reply carries the :class:`~handlers.core.messages.Form` (a modal, a
card) and its submission comes back through :meth:`handlers.core.engine.Engine.submit`. In the
shell :class:`FormFlow` asks the same questions in turn, with ``back``, ``skip`` and
``cancel``, and saves through the same :meth:`FormHandler.save`. So both ways check the
same things and store the same answers.
"""

from __future__ import annotations

from typing import Any

from handlers.core.calendar import local_date
from handlers.core.engine import Flow, FlowState, FormHandler, Outcome, Turn
from handlers.core.errors import InvalidAnswer
from handlers.core.messages import Form, Reply
from handlers.core.program import Choice, Question, QuestionType
from handlers.core.questions import KEEP, expectation, format_answer, parse_answer, prompt_for


def today_of(turn: Turn) -> Any:
    """The person's own today (dates typed as words are read against it)."""
    zone = turn.person.timezone or turn.programs.default_timezone
    return local_date(turn.now, zone)


async def open_form(turn: Turn, handler: FormHandler, *, ref: str, flow: FormFlow) -> Outcome:
    """Show the form (Slack, Teams) or start asking its questions (the shell)."""
    form = await handler.build(turn, ref)
    if isinstance(form, Reply):
        return Outcome([form], None, changed=False)
    if turn.inbound.forms:
        return Outcome([Reply(form.intro or form.title, title=form.title, form=form)], None, False)
    return flow.begin(turn, form)


class FormFlow(Flow):
    """A form's questions asked one at a time; saved through its handler at the end.

    The questions travel in the flow's state (wording and options), so a restart resumes
    at the same question; the form is built afresh when it is saved.
    """

    name = "form"

    def __init__(self, handlers: dict[str, FormHandler]) -> None:
        self.handlers = handlers

    def begin(self, turn: Turn, form: Form) -> Outcome:
        """Start asking ``form``'s questions, with its filled-in answers kept."""
        state = FlowState(
            self.name,
            "0",
            {
                "form": form.name,
                "ref": form.ref,
                "title": form.title,
                "answers": dict(form.initial),
                "questions": [_freeze(q) for q in form.questions],
            },
        )
        intro = [Reply(form.intro, title=form.title)] if form.intro else []
        return Outcome(intro + self.ask(turn, state), state)

    def _question(self, state: FlowState) -> Question:
        return _thaw(state.data["questions"][int(state.step)])

    def ask(self, turn: Turn, state: FlowState) -> list[Reply]:
        question = self._question(state)
        total = len(state.data["questions"])
        hint = question.help
        if question.type is QuestionType.DATE:
            hint = "e.g. today, yesterday, tuesday or 2026-12-03"
        if not question.required:
            hint = f"{hint} · skip if it doesn't apply" if hint else "Type skip to leave it out."
        current = state.data["answers"].get(question.id)
        if current is not None:
            hint = f"{hint} · so far: {format_answer(question, current)}; type keep to keep it"
        return [
            Reply(
                f"({int(state.step) + 1}/{total}) {question.prompt}",
                prompt=prompt_for(question),
                hint=hint,
            )
        ]

    def describe(self, state: FlowState) -> str:
        step, total = int(state.step) + 1, len(state.data["questions"])
        return f"question {step} of {total} of {state.data.get('title', 'a form').lower()}"

    async def answer(self, turn: Turn, state: FlowState) -> Outcome:
        question = self._question(state)
        current = state.data["answers"].get(question.id)
        if turn.inbound.action is None and turn.text.lower() == KEEP and current is not None:
            # The hint shows the answer so far (after back, or a form filled in before).
            return await self._next(turn, state, question.id, current)
        try:
            value = parse_answer(
                question, text=turn.text, action=turn.inbound.action, today=today_of(turn)
            )
        except InvalidAnswer as problem:
            return Outcome([Reply(str(problem)), *self.ask(turn, state)], state, False)
        handler = self.handlers.get(state.data["form"])
        notice = None
        if handler is not None:
            trouble = await handler.check(
                turn, state.data["ref"], question_id=question.id, answer=value
            )
            if trouble is not None:
                return Outcome([Reply(trouble), *self.ask(turn, state)], state, False)
            notice = await handler.notice(
                turn, state.data["ref"], question_id=question.id, answer=value
            )
        outcome = await self._next(turn, state, question.id, value)
        if notice is not None:
            outcome.replies.insert(0, Reply(notice))
        return outcome

    async def skip(self, turn: Turn, state: FlowState) -> Outcome:
        question = self._question(state)
        if question.required:
            text = f"This question needs an answer. {expectation(question)}"
            return Outcome([Reply(text), *self.ask(turn, state)], state, False)
        return await self._next(turn, state, question.id, None)

    async def back(self, turn: Turn, state: FlowState) -> Outcome:
        index = int(state.step)
        if index == 0:
            text = "This is the first question. Type cancel to stop."
            return Outcome([Reply(text)], state, False)
        previous = FlowState(self.name, str(index - 1), state.data)
        return Outcome(self.ask(turn, previous), previous)

    async def _next(self, turn: Turn, state: FlowState, question_id: str, value: Any) -> Outcome:
        data = {**state.data, "answers": {**state.data["answers"], question_id: value}}
        index = int(state.step) + 1
        if index < len(data["questions"]):
            following = FlowState(self.name, str(index), data)
            return Outcome(self.ask(turn, following), following)
        handler = self.handlers.get(data["form"])
        if handler is None:
            return Outcome([Reply("That form is from an older version of me; nothing saved.")])
        form = await handler.build(turn, data["ref"])
        if isinstance(form, Reply):
            return Outcome([form], None)
        answers = {q.id: data["answers"].get(q.id) for q in form.questions}
        result = await handler.save(turn, form.ref, answers=answers)
        if not result.errors:
            return Outcome(result.replies, None)
        # Back to the first question that needs fixing, saying what was wrong.
        ids = [q["id"] for q in data["questions"]]
        first = min((ids.index(q) for q in result.errors if q in ids), default=0)
        again = FlowState(self.name, str(first), data)
        problem = result.errors.get(ids[first], next(iter(result.errors.values())))
        return Outcome([Reply(problem), *self.ask(turn, again)], again)


def _freeze(question: Question) -> dict[str, Any]:
    data = question.model_dump(mode="json", exclude_none=True)
    data["choices"] = [[c.value, c.label] for c in question.choices]
    data.pop("options", None)
    data.pop("options_from", None)
    return data


def _thaw(data: dict[str, Any]) -> Question:
    fields = {k: v for k, v in data.items() if k != "choices"}
    return question_with_choices(Question(**fields), [tuple(c) for c in data.get("choices", ())])


def question_with_choices(
    question: Question, choices: list[tuple[str, str]] | list[Any]
) -> Question:
    """A question whose options are these (value, label) pairs (forms built in code)."""
    question._choices = tuple(Choice(value=v, label=label) for v, label in choices)
    return question
