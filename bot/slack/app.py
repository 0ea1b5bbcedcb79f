"""The Slack channel: a slack-bolt AsyncApp whose listeners hand turns to the engine.

Every kind of Slack request arrives at ``POST /slack/events`` (see bot.slack.http). Listeners
translate Slack payloads into neutral :class:`Inbound` turns, and the replies back into
Block Kit (bot.slack.blocks). Slack re-sends events it thinks failed; a message's event id
goes with its turn (``Inbound.event_id``), and the engine answers a retry once.

Slack shows whole forms, so every turn says so (``Inbound.forms``). A reply's form opens
as a modal when the turn came from a click or a slash command (their ``trigger_id`` is
good for a few seconds); a typed message gets a button that runs the form's command
instead. A "More about NAME" button under a profile opens the rest of it as a modal. Every
submitted modal, the intake's "Join as a mentee" included (handlers.intake.form), goes to
:meth:`handlers.core.engine.Engine.submit`, and its problems are shown next to the fields
(``response_action: errors``). A turn and a submitted modal that fail are answered in one
place, bot.slack.boundary: the DM or the modal says so, and the log says where, not what.

A lead's report is posted as messages with native table blocks (bot.slack.reports); then
its chart and the CSVs its messages point to are uploaded to the same DM, and a reply's
attachment (a person's data export) after the message that announces it (bot.slack.files).
Who a Slack user is in the directory, and the DM with them, is bot.slack.accounts' job;
the tokens and the Web API client, bot.slack.settings'.
"""

from __future__ import annotations

import logging
import re
import traceback
from pathlib import Path
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError

from bot.slack import blocks, reports
from bot.slack.accounts import PLATFORM, SlackAccounts
from bot.slack.boundary import Boundary, Surface
from bot.slack.files import SlackFiles
from bot.slack.settings import SlackSettings, make_client
from handlers import (
    FORM_FAILED,
    INTAKE_FORM,
    TURN_FAILED,
    Action,
    Engine,
    Form,
    FormResult,
    Inbound,
    Program,
    Programs,
    Reply,
    Submission,
    TurnResult,
    UserError,
    error_type,
    home,
    intake_target,
    log_failure,
)
from storage import Database, Role
from storage.queries import enrollments_of, first_delivery, with_role

log = logging.getLogger(__name__)
OUTDATED_FORM = (
    "This form is out of date or damaged, so nothing was saved. Type help in our DM to start again."
)
#: How long Bolt waits for a listener to acknowledge before it answers 404 ("unhandled").
#: Bolt's own wait is 3 s of wall time, Slack's deadline; but Slack gives up by itself then,
#: while a 404 at 3 s would be a false answer: the listener goes on and saves the form.
#: Waiting for the listener makes the answer say what happened, however slow the machine.
ACK_WAIT_SECONDS = 30
#: A Slack user, team or enterprise id (U123ABC, W123, T123, E123).
_SLACK_ID = re.compile(r"[A-Z][A-Z0-9]{1,40}")


class SlackChannel:
    """Slack in front of the engine.

    Args:
        settings: Tokens and the Web API URL.
        engine: The conversation engine.
        database: For identity links and processed events.
    """

    def __init__(self, *, settings: SlackSettings, engine: Engine, database: Database) -> None:
        self.settings = settings
        self.engine = engine
        self.database = database
        self.client = make_client(settings)
        bolt_log = logging.getLogger("mentorbot.slack.bolt")
        if _quiet_token_notice not in bolt_log.filters:
            bolt_log.addFilter(_quiet_token_notice)
        self.app = AsyncApp(
            # Named, or Bolt names the app after its caller's file through inspect.stack(),
            # which reads every frame's source: a tenth of a second in a deep call stack.
            name="mentorbot",
            client=self.client,
            signing_secret=settings.signing_secret,
            # bot.slack.http checks every request's signature once, before Bolt sees it
            # (Socket Mode needs no signature).
            request_verification_enabled=False,
            process_before_response=False,
            logger=bolt_log,
        )
        self.accounts = SlackAccounts(client=self.client, database=database)
        self.files = SlackFiles(self.client)
        self._register()
        for listener in self.app._async_listeners:  # Bolt sets it only for function listeners
            listener.ack_timeout = ACK_WAIT_SECONDS

    async def open(self) -> None:
        """Share one HTTP session (and its keep-alive connections) across Web API calls."""
        if self.client.session is None:
            self.client.session = aiohttp.ClientSession()

    async def close(self) -> None:
        """Close the shared HTTP session."""
        session, self.client.session = self.client.session, None
        if session is not None:
            await session.close()

    # -- identity -----------------------------------------------------------------------

    async def identify(
        self, team: str, user: str, *, dm_channel: str | None = None
    ) -> tuple[int, str | None]:
        """The directory person behind a Slack user, and the DM with them if known.

        See :meth:`bot.slack.accounts.SlackAccounts.identify`; the time is the engine's.

        Raises:
            UserError: Slack does not share the user's email.
        """
        return await self.accounts.identify(
            team, user, now=self.engine.clock.now(), dm_channel=dm_channel
        )

    # -- turns --------------------------------------------------------------------------

    async def converse(
        self,
        *,
        team: str,
        user: str,
        text: str = "",
        action: Action | None = None,
        channel: str | None = None,
        event_id: str | None = None,
        trigger_id: str | None = None,
    ) -> TurnResult | None:
        """Run one turn and post the replies in the DM, behind the channel's error boundary.

        Args:
            trigger_id: Slack's handle for opening a modal, when the turn came from a click
                or a slash command: a reply's form then opens as a modal.

        Returns:
            The engine's result, or None when the turn failed and the person was told.
        """
        if not _SLACK_ID.fullmatch(user) or not _SLACK_ID.fullmatch(team):
            # Slack always says who and where; without both there is nobody to answer.
            log.info("slack: ignored a request without a valid user or team id")
            return None
        async with self._in_dm(team, user, channel) as boundary:
            person_id, known_dm = await self.identify(team, user, dm_channel=channel)
            boundary.person_id = person_id
            if channel is not None and channel != known_dm:
                await self.accounts.remember_dm(team, user, channel)
            inbound = _inbound(team, user, person_id, text=text, action=action, event_id=event_id)
            result = await self.engine.turn(inbound)
            replies = result.replies
            if trigger_id:
                replies = await self._open_modal(trigger_id, replies)
            await self.post(channel or await self.accounts.dm_channel(team, user), replies)
            return result
        return None

    def _in_dm(self, team: str, user: str, channel: str | None) -> Boundary:
        """A turn's boundary: answers go to the DM (or the turn's channel); a failure resets."""

        async def show(text: str) -> None:
            await self._tell(team, user, text, channel=channel)

        async def reset(person_id: int) -> None:
            await self.engine.reset(_inbound(team, user, person_id))

        return Boundary(
            Surface(team, user, work="turn", show=show, apology=TURN_FAILED, reset=reset)
        )

    @staticmethod
    def _on_modal(ack: AsyncAck, team: str, user: str, *, form: str) -> Boundary:
        """The boundary of a submitted form: it answers by replacing the modal with a notice."""

        async def show(text: str) -> None:
            await ack(response_action="update", view=blocks.notice_modal("Form", text))

        return Boundary(Surface(team, user, work=f"form {form}", show=show, apology=FORM_FAILED))

    async def _open_modal(self, trigger_id: str, replies: list[Reply]) -> list[Reply]:
        """Open the first reply's form as a modal; the replies still to post.

        If Slack refuses (the trigger expired), the form stays in the replies and is posted
        with its button, so the person can open it with one more click.
        """
        form = next((r.form for r in replies if r.form is not None), None)
        if form is None:
            return replies
        try:
            await self.client.views_open(trigger_id=trigger_id, view=blocks.form_modal(form))
        except SlackApiError as exc:
            log.warning("slack: could not open form %s: %s", form.name, exc.response.get("error"))
            return replies
        return [r for r in replies if r.form is not form]

    async def _tell(self, team: str, user: str, text: str, *, channel: str | None = None) -> None:
        """Tell a person one sentence (what went wrong) in the DM, or in ``channel``."""
        await self._post_aside(
            team,
            user,
            replies=[Reply(text)],
            channel=channel,
            failed="slack: could not tell a person their turn failed",
        )

    async def _post_aside(
        self,
        team: str,
        user: str,
        *,
        replies: list[Reply],
        channel: str | None = None,
        failed: str,
    ) -> None:
        """Post replies that nothing further waits on; a failure is logged, not raised.

        The apology after a failed turn, and what saving a form said after its modal closed:
        the person's work is done either way, so a Slack that refuses the message is logged
        (by class and place, never the text) and goes no further.

        Args:
            channel: Where to post; None for the DM with the user.
            failed: What the log line says when the post fails.
        """
        try:
            await self.post(channel or await self.accounts.dm_channel(team, user), replies)
        except Exception as exc:
            log_failure(log, failed, error=exc, user=user)

    async def post(self, channel: str, replies: list[Reply]) -> None:
        """Post replies, then any report's chart and CSVs or a reply's attachment, as files.

        A report is a message per table (bot.slack.reports); other replies share one.
        """
        if not replies:
            return
        for text, message_blocks in reports.render_messages(replies):
            await self.client.chat_postMessage(channel=channel, text=text, blocks=message_blocks)
        for reply in replies:
            if reply.report is not None:
                await self.files.attach_report(channel, reply.report)
            if reply.attachment is not None:
                await self.files.attach(channel, reply.attachment)

    async def _first_time(self, body: dict[str, Any]) -> bool:
        """Whether an event that is not a turn (a mention) is new, by the engine's record."""
        event_id = body.get("event_id")
        if not isinstance(event_id, str) or not event_id:
            return True
        async with self.database.session() as session:
            return await first_delivery(
                session, platform=PLATFORM, event_id=event_id, now=self.engine.clock.now()
            )

    # -- listeners ----------------------------------------------------------------------

    def _register(self) -> None:
        app = self.app

        @app.error
        async def on_error(error: Exception) -> None:
            """Bolt's boundary: a payload that broke a listener or middleware.

            Logged by class and place only: the exception's text can quote the request.
            """
            log.warning("slack: a request could not be handled (%s)", _where(error))

        @app.event("message")
        async def on_message(body: dict[str, Any], event: dict[str, Any]) -> None:
            if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
                return
            event_id = body.get("event_id")
            await self.converse(
                team=_team(body),
                user=str(event.get("user", "")),
                text=blocks.plain_text(str(event.get("text") or "")),
                channel=str(event.get("channel")),
                event_id=str(event_id) if event_id else None,
            )

        @app.event("app_mention")
        async def on_mention(body: dict[str, Any], event: dict[str, Any]) -> None:
            if not await self._first_time(body):
                return
            await self.client.chat_postMessage(
                channel=str(event.get("channel")),
                thread_ts=event.get("thread_ts") or event.get("ts"),
                text=(
                    "Hi! I work in direct messages, so your answers stay private. Open a DM "
                    "with me (or type /mentor help) and say help."
                ),
            )

        @app.event("app_home_opened")
        async def on_home(body: dict[str, Any], event: dict[str, Any]) -> None:
            if event.get("tab") not in (None, "home"):
                return
            team, user = _team(body), str(event.get("user", ""))
            try:
                person_id, _ = await self.identify(team, user)
                replies = await home(self.engine, _inbound(team, user, person_id))
            except UserError as problem:
                replies = [Reply(str(problem))]
            _, home_blocks = blocks.render_message(replies)
            await self.client.views_publish(
                user_id=user, view={"type": "home", "blocks": home_blocks}
            )

        @app.event(re.compile(".*"))
        async def on_other_event() -> None:
            """Events mentorbot does not use are acknowledged, so Slack does not retry them."""

        @app.command(re.compile(r"^/mentor"))
        async def on_command(ack: AsyncAck, command: dict[str, Any]) -> None:
            text = blocks.plain_text(str(command.get("text") or "")).strip() or "help"
            word = text.split()[0].lower()
            in_dm = command.get("channel_name") == "directmessage"
            refs = _form_refs(self.engine.programs, text.split()[1:])
            if word in ("join", "enroll", "enrol", "signup") and refs:
                await ack(blocks=blocks.form_offer(refs), text="Prefer one form?")
            elif in_dm:
                await ack()
            else:
                await ack(text="I've answered in our direct messages.")
            await self.converse(
                team=str(command.get("team_id", "")),
                user=str(command.get("user_id", "")),
                text=text,
                trigger_id=_trigger(command),
            )

        @app.action(re.compile(f"^({blocks.CHOICE}:\\d+|{blocks.SELECT})$"))
        async def on_choice(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
            await ack()
            raw = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
            token, value = blocks.decode(str(raw))
            chosen = _chosen_label(action)
            await self._answer(body, Action(token, (value,)), chosen)

        @app.action(blocks.MULTI)
        async def on_multi_toggle(ack: AsyncAck) -> None:
            """Ticking a checkbox only changes the message; Done submits."""
            await ack()

        @app.action(blocks.DONE)
        async def on_done(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
            await ack()
            state = (body.get("state") or {}).get("values") or {}
            field_state = (state.get(blocks.PROMPT_BLOCK) or {}).get(blocks.MULTI) or {}
            options = field_state.get("selected_options") or []
            values = tuple(blocks.decode(str(o.get("value", "")))[1] for o in options)
            labels = ", ".join(str((o.get("text") or {}).get("text", "")) for o in options)
            await self._answer(body, Action(str(action.get("value", "")), values), labels)

        @app.action(re.compile(f"^{blocks.COMMAND}:\\d+$"))
        async def on_command_button(
            ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
        ) -> None:
            await ack()
            user = str((body.get("user") or {}).get("id", ""))
            await self.converse(
                team=_team(body),
                user=user,
                text=str(action.get("value", "")),
                trigger_id=_trigger(body),
            )

        @app.action(re.compile(f"^{blocks.MORE}:\\d+$"))
        async def on_more_button(
            ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
        ) -> None:
            """The "More about NAME" button under profiles: the rest, in a modal."""
            await ack()
            view = blocks.profile_modal(str(action.get("value", "")))
            try:
                await self.client.views_open(trigger_id=str(body.get("trigger_id", "")), view=view)
            except SlackApiError as exc:
                log.warning("slack: could not show a profile: %s", exc.response.get("error"))

        @app.action(re.compile(f"^{blocks.FORM}:"))
        async def on_form_button(
            ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
        ) -> None:
            await ack()
            await self._open_form(body, str(action.get("value", "")))

        @app.view(blocks.FORM_CALLBACK)
        async def on_intake_submit(
            ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]
        ) -> None:
            """The intake modal: its program and role travel as the view's metadata."""
            ref = str(view.get("private_metadata") or "")
            known = intake_target(self.engine.programs, ref) is not None
            metadata = (INTAKE_FORM, ref) if known else None
            await self._submit_view(ack, body, view=view, metadata=metadata)

        @app.view(blocks.FORM_VIEW)
        async def on_form_view_submit(
            ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]
        ) -> None:
            metadata = blocks.read_form_metadata(view.get("private_metadata"))
            await self._submit_view(ack, body, view=view, metadata=metadata)

    async def _answer(self, body: dict[str, Any], action: Action, chosen: str) -> None:
        """A click on a question: run the turn; if it counted, show the choice in place."""
        user = str((body.get("user") or {}).get("id", ""))
        channel = (body.get("channel") or {}).get("id")
        result = await self.converse(
            team=_team(body), user=user, action=action, channel=channel, trigger_id=_trigger(body)
        )
        message = body.get("message") or {}
        if result is None or not result.accepted or not channel or not message.get("ts"):
            return
        try:
            await self.client.chat_update(
                channel=channel,
                ts=message["ts"],
                text=message.get("text") or blocks.escape(chosen),
                blocks=blocks.answered(message.get("blocks") or [], chosen),
            )
        except SlackApiError as exc:
            log.warning("slack: could not mark a question answered: %s", exc.response.get("error"))

    async def _open_form(self, body: dict[str, Any], ref: str) -> None:
        team, user = _team(body), str((body.get("user") or {}).get("id", ""))
        target = intake_target(self.engine.programs, ref)
        if target is None:
            return
        program, role = target
        try:
            person_id, _ = await self.identify(team, user)
        except UserError as problem:
            await self._tell(team, user, str(problem))
            return
        answers = await self._saved_answers(person_id, program, role)
        view = blocks.intake_modal(
            ref=f"{program.id}:{role.value}",
            role=role.value,
            questions=program.intake.for_role(role),
            answers=answers,
            program_name=program.name,
        )
        await self.client.views_open(trigger_id=str(body.get("trigger_id", "")), view=view)

    async def _saved_answers(self, person_id: int, program: Program, role: Role) -> dict[str, Any]:
        async with self.database.session() as session:
            enrollments = await enrollments_of(session, person_id, program=program.id)
        existing = with_role(enrollments, role)
        return dict(existing.answers) if existing is not None else {}

    async def _submit_view(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        *,
        view: dict[str, Any],
        metadata: tuple[str, str] | None,
    ) -> None:
        """A submitted form modal: saved through the engine, or its problems shown inline.

        Slack waits three seconds for the answer to a submission, so the form is checked
        and saved before acknowledging; what saving says is posted to the DM afterwards.

        Args:
            metadata: The form's name and ref the view carries; None if it carries none.
        """
        team, user = _team(body), str((body.get("user") or {}).get("id", ""))
        if metadata is None or metadata[0] not in self.engine.forms:
            log.warning("slack: a form view came back without a known form (user=%s)", user)
            await ack(response_action="update", view=blocks.notice_modal("Form", OUTDATED_FORM))
            return
        name, ref = metadata
        result: FormResult | None = None
        async with self._on_modal(ack, team, user, form=name) as boundary:
            person_id, _ = await self.identify(team, user)
            boundary.person_id = person_id
            sent = Submission(name, ref, blocks.submitted_values(view))
            result = await self.engine.submit(_inbound(team, user, person_id, form=sent))
        if result is None:
            return  # the boundary answered on the modal
        if result.errors:
            by_block = _errors_by_block(result, view)
            if by_block:
                await ack(response_action="errors", errors=by_block)
            else:  # a view without fields to put them on: say them instead
                text = "Nothing was saved: " + " ".join(result.errors.values())
                await ack(response_action="update", view=blocks.notice_modal("Form", text))
            return
        await ack()
        await self._post_aside(
            team,
            user,
            replies=result.replies,
            failed=f"slack: could not post what saving form {name} said",
        )


def _inbound(team: str, user: str, person_id: int, **turn: Any) -> Inbound:
    """A turn from Slack, which can show whole forms."""
    return Inbound(PLATFORM, f"{team}/{user}", person_id, forms=True, **turn)


def _trigger(body: dict[str, Any]) -> str | None:
    trigger = body.get("trigger_id")
    return trigger if isinstance(trigger, str) and trigger else None


def _errors_by_block(result: FormResult, view: dict[str, Any]) -> dict[str, str]:
    """A form's problems keyed by the modal's input blocks, as Slack shows them.

    Slack refuses errors for blocks the view does not have, so a problem that belongs to
    no field of this view is put on the first field.
    """
    form: Form | None = result.form
    order = [q.id for q in form.questions] if form is not None else []
    present = {
        b.get("block_id")
        for b in view.get("blocks") or ()
        if isinstance(b, dict) and b.get("type") == "input"
    }
    inputs = [blocks.input_block_id(q) for q in order if blocks.input_block_id(q) in present]
    errors: dict[str, str] = {}
    stray: list[str] = []
    for question_id, message in result.errors.items():
        block = blocks.input_block_id(question_id)
        if block in present:
            errors[block] = message
        else:
            stray.append(message)
    if stray and inputs:
        errors[inputs[0]] = " ".join([errors.get(inputs[0], ""), *stray]).strip()
    elif stray:
        return {}
    return errors


def _quiet_token_notice(record: logging.LogRecord) -> bool:
    """Drop bolt's notice that SLACK_BOT_TOKEN is unused: we hand it a client on purpose."""
    return "`token` will be unused" not in record.getMessage()


def _team(body: dict[str, Any]) -> str:
    team = body.get("team_id") or (body.get("team") or {}).get("id")
    if not team:
        team = (body.get("user") or {}).get("team_id", "")
    return str(team)


def _chosen_label(action: dict[str, Any]) -> str:
    option = action.get("selected_option") or {}
    text = (option.get("text") or action.get("text") or {}).get("text")
    return str(text or "")


def _where(error: BaseException) -> str:
    """An exception's class and the innermost line it came from, without its message."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return error_type(error)
    last = frames[-1]
    return f"{error_type(error)} at {Path(last.filename).name}:{last.lineno} in {last.name}"


def _form_refs(programs: Programs, words: list[str]) -> list[tuple[str, str]]:
    """The intake forms ``join WORDS`` can offer: (ref, role) for the program named (or the
    only one) and the role named (or each of its roles); none when it is not clear which
    program, since the chat asks that first."""
    program = programs.get(words[0].lower()) if words else None
    if program is not None:
        words = words[1:]
    elif programs.several:
        return []
    else:
        program = programs.first
    if program.archived:
        return []
    roles = [r.value for r in program.roles]
    if words and words[0].lower().rstrip("s") in roles:
        roles = [words[0].lower().rstrip("s")]
    return [(f"{program.id}:{role}", role) for role in roles]
