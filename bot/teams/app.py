"""The Teams channel: botbuilder's CloudAdapter and a TeamsActivityHandler over the engine.

Requests reach it through bot.teams.http, which checks the token and the tenant first
(the settings and the tenant rule: bot.teams.settings); replies are Adaptive Cards
(bot.teams.cards, with bot.teams.forms, bot.teams.reports and bot.teams.files).

Teams shows whole forms, so every turn says so (``Inbound.forms``): a reply's form is a
card with all its inputs, and the card's submission goes to
:meth:`handlers.core.engine.Engine.submit`. Problems come back as one message listing them,
followed by the card again, filled in with what was sent.

A lead's report is one card (bot.teams.reports.report_elements); its chart is drawn off the
event loop first and travels inside the card as a PNG data URI. The CSV of each table the
card could not show whole is then offered as a file, as below.

A reply's attachment (a person's data export) goes through Teams' file-consent flow: after
the reply, a file-consent card offers the file; the content waits in memory under a random
key. When the person allows it, Teams sends a ``fileConsent/invoke`` activity with an
upload URL in their OneDrive; the bytes are PUT there and a file-info card shows the file in
the chat (those cards: bot.teams.files). A decline, or an offer that is unknown or expired,
gets a short message. Allowing the same card again (a double click; the invite cards can be
allowed from any replica) uploads nothing more: each allowed card's key is recorded in
``processed_event``, and a second Allow gets a short note.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
import sqlalchemy as sa
from aiohttp import web
from botbuilder.core import MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, Attachment, ChannelAccount
from botbuilder.schema.teams import FileConsentCardResponse
from botframework.connector.auth import (
    AuthenticationConstants,
    ClaimsIdentity,
    ServiceClientCredentialsFactory,
)

from bot.teams import cards, elements, files, forms, reports
from bot.teams.connector import KeptConnectors
from bot.teams.settings import TeamsSettings
from bot.web import problem
from handlers import (
    TURN_FAILED,
    Engine,
    FormResult,
    Inbound,
    Reply,
    UserError,
    find_or_create_person,
    greeting,
    is_email,
    log_failure,
)
from handlers import Attachment as FileAttachment
from storage import Database, ProcessedEvent
from storage.queries import account_of, first_delivery, link_account, save_reference

PLATFORM = "teams"
OUTDATED_FORM = (
    "That form is out of date or damaged, so nothing was saved. Type help to start again."
)
#: What a person types to be offered their own data again (what an unknown offer suggests).
MY_DATA = "my-data"


def no_offer(again: str = MY_DATA) -> str:
    """What a person is told when the file offer they answered is unknown or expired."""
    return (
        "That file offer has expired or is no longer known (perhaps I restarted), so nothing "
        f"was sent. Type {again} to get a new one."
    )


def not_uploaded(again: str = MY_DATA) -> str:
    """What a person is told when their file could not be saved to their OneDrive."""
    return f"Sorry, I couldn't save the file to your OneDrive. Type {again} to try again."


NO_OFFER = no_offer()
DECLINED = "OK, not sent."
#: What a second Allow on the same file-consent card reads (a double click, a retry).
ALREADY_SAVED = "That file is already saved to your OneDrive; nothing more to do."
#: The processed_event platform under which allowed file-consent cards are recorded.
CONSENTS = "teams-consent"
#: How long an offered file waits for the person to allow it.
OFFER_SECONDS = 3600.0
#: Offers kept at once; past this the oldest is dropped (its key then counts as expired).
OFFER_LIMIT = 500
#: Where a turn keeps the tenant :meth:`TeamsChannel.handle` checked (None: any-tenant mode
#: and the activity named none).
TENANT_KEY = "mentorbot.tenant"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Offer:
    """A file offered on a consent card, waiting for the person to allow or decline it."""

    user_key: str
    attachment: FileAttachment
    expires_at: float
    #: What the person types to be offered the file again (``my-data``, ``report at-risk``).
    again: str = MY_DATA


class _BotConfig:
    """The configuration object botbuilder's factories read attributes from."""

    def __init__(self, settings: TeamsSettings) -> None:
        self.APP_ID = settings.app_id or ""
        self.APP_PASSWORD = settings.app_password or ""
        self.APP_TYPE = settings.app_type or "MultiTenant"
        self.APP_TENANTID = settings.tenant_id or ""
        if settings.openid_metadata_url and settings.app_id:
            # Naming any endpoint switches botbuilder to explicit settings, so the public
            # cloud's values are given alongside the signing-key address. (Without an app id
            # nothing is validated, and botbuilder's explicit path fails on a missing token.)
            self.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = settings.openid_metadata_url
            self.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = (
                AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
            )
            self.TO_CHANNEL_FROM_BOT_LOGIN_URL = (
                AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX
                + (settings.tenant_id or AuthenticationConstants.DEFAULT_CHANNEL_AUTH_TENANT)
            )
            self.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = (
                AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
            )
            self.OAUTH_URL = AuthenticationConstants.OAUTH_URL
            self.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = (
                AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
            )
            self.CALLER_ID = "urn:botframework:azure"
            self.VALIDATE_AUTHORITY = True


class TeamsChannel:
    """Teams in front of the engine.

    Args:
        settings: App id, password and tenant.
        engine: The conversation engine.
        database: For identity links and proactive references.
        credentials_factory: Credentials for calls to the Bot Connector (default: from
            the app id and password, through Microsoft Entra ID).
        send_attempts: Tries for a reply before giving up.
        retry_delay: The wait before the second try, doubled after each failure.
        sleep: Injected so retries are testable without waiting.
    """

    def __init__(
        self,
        *,
        settings: TeamsSettings,
        engine: Engine,
        database: Database,
        credentials_factory: ServiceClientCredentialsFactory | None = None,
        send_attempts: int = 3,
        retry_delay: float = 0.5,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.database = database
        self.send_attempts = send_attempts
        self.retry_delay = retry_delay
        self.sleep = sleep
        # Connector clients kept per service URL and sent with aiohttp: botbuilder would
        # build one per turn and send on a small thread pool (see bot.teams.connector).
        self.auth = KeptConnectors(_BotConfig(settings), credentials_factory=credentials_factory)
        self.adapter = CloudAdapter(self.auth)
        self.adapter.on_turn_error = self._on_turn_error
        self.bot = _MentorBot(self)
        # Offered files wait in memory, not in the database: the content is the person's
        # whole export, and an offer is short-lived. A restart loses a pending offer; the
        # person is told so when they click it, and types my-data again.
        self._offers: dict[str, _Offer] = {}

    async def close(self) -> None:
        """Close the connections to the Bot Connector."""
        await self.auth.close()

    @property
    def authenticated(self) -> bool:
        """Whether requests must carry a valid Bot Framework token."""
        return bool(self.settings.app_id)

    async def process(
        self, *, activity: Activity, identity: ClaimsIdentity, tenant: str | None
    ) -> web.Response:
        """Run botbuilder's turn for an activity :func:`bot.teams.http.handle` let through.

        Args:
            activity: The activity.
            identity: Who the Bot Framework token says sent it.
            tenant: The served tenant it comes from (None: any-tenant mode, and it named
                none).
        """

        async def turn(context: TurnContext) -> None:
            # The turn carries the tenant let through, so identify() links in it alone.
            context.turn_state[TENANT_KEY] = tenant
            await self.bot.on_turn(context)

        try:
            response = await self.adapter.process_activity(identity, activity, turn)
        except Exception as exc:
            # By type and place only: the error can quote what the person typed.
            log_failure(
                log, "teams: an activity could not be handled", error=exc, type=activity.type
            )
            return problem(400, "the activity could not be handled")
        if response is not None:
            return web.json_response(response.body, status=response.status)
        return web.Response(status=201)

    # -- turns --------------------------------------------------------------------------

    async def identify(self, context: TurnContext) -> int:
        """The directory person behind the Teams user, linked by email or UPN on first contact.

        The link records the user's tenant (:meth:`handle` let only served tenants through),
        and a link made in another tenant is not used: the user is looked up again in the
        roster of the tenant they write from.
        """
        if TENANT_KEY not in context.turn_state:
            raise PermissionError("a Teams activity reached identify() without a tenant check")
        tenant: str | None = context.turn_state[TENANT_KEY]
        sender: ChannelAccount = context.activity.from_property
        external_id = sender.aad_object_id or sender.id
        now = self.engine.clock.now()
        async with self.database.session() as session:
            account = await account_of(
                session, platform=PLATFORM, external_id=external_id, tenant=tenant
            )
            if account is not None:
                if account.tenant is None:
                    # A link made before tenants were recorded takes the tenant of the first
                    # activity that reaches it, which handle() let through only from a
                    # served tenant; from then on only that tenant resolves it. (A stranger's
                    # old link stays unused: their tenant is refused before this point.)
                    account.tenant = tenant
                account.last_seen_at = now
                session.add(account)
                return account.person_id
        email, name = await self._member_email(context, sender)
        async with self.database.session() as session:
            person, _ = await find_or_create_person(session, email=email, name=name, now=now)
            assert person.id is not None
            await link_account(
                session,
                platform=PLATFORM,
                external_id=external_id,
                person_id=person.id,
                now=now,
                tenant=tenant,
            )
        return person.id

    async def _member_email(self, context: TurnContext, sender: ChannelAccount) -> tuple[str, str]:
        name = sender.name or ""
        try:
            member = await TeamsInfo.get_member(context, sender.id)
        except Exception as exc:
            log.warning(
                "teams: member lookup failed (%s); using the AAD object id", type(exc).__name__
            )
            member = None
        if member is not None:
            name = member.name or name
            for candidate in (member.email, member.user_principal_name):
                if candidate and is_email(candidate):
                    return candidate.lower(), name
        if not sender.aad_object_id:
            raise UserError(
                "Teams didn't tell me who you are, so I can't find you in the company directory. "
                "Ask the program lead to check the app's permissions."
            )
        # No email: the person is known by their Entra ID object id until the directory
        # import gives them one.
        return f"aad-{sender.aad_object_id.lower()}@users.teams.invalid", name

    async def converse(self, context: TurnContext) -> None:
        """One message or card submission, answered with a card."""
        activity = context.activity
        person_id = await self.identify(context)
        reference = TurnContext.get_conversation_reference(activity).serialize()
        # botbuilder's schema spells the key tenantID and so drops Teams' tenantId; it is
        # kept so that a proactive message can tell which tenant the conversation is in.
        reference.setdefault("conversation", {})["tenantId"] = context.turn_state.get(TENANT_KEY)
        async with self.database.session() as session:
            await save_reference(
                session,
                person_id=person_id,
                platform=PLATFORM,
                reference=reference,
                now=self.engine.clock.now(),
            )
        user_key = activity.from_property.aad_object_id or activity.from_property.id
        try:
            submission = forms.read_form(activity.value)
        except forms.MalformedForm as problem:
            log.info("teams: a malformed form submission (%s)", problem)
            await self._send(context, cards.card_activity([Reply(OUTDATED_FORM)]))
            return
        if submission is not None:
            sent = Inbound(
                PLATFORM,
                user_key,
                person_id,
                event_id=activity.id or None,
                forms=True,
                form=submission,
            )
            await self._submit(context, sent)
            return
        command, action, chosen = cards.read_submission(activity.value)
        text = command or ""
        if action is None and command is None:
            text = (TurnContext.remove_recipient_mention(activity) or activity.text or "").strip()
        if not text and action is None:
            return  # an empty submission or an empty message: nothing to answer
        inbound = Inbound(
            PLATFORM,
            user_key,
            person_id,
            text=text,
            action=action,
            event_id=activity.id or None,
            forms=True,
        )
        result = await self.engine.turn(inbound)
        if not result.replies:
            return
        pictures = await reports.draw_charts(result.replies)
        card, report_files = cards.fitted_card(result.replies, pictures=pictures)
        if not await self._send(context, cards.card_activity_of(card, result.replies)):
            undone = await self.engine.undo(inbound, result)
            log.warning(
                "teams: a reply could not be sent; conversation %s",
                "kept" if undone else "moved on",
            )
            return
        if result.accepted and action is not None and activity.reply_to_id:
            await self._mark_answered(context, activity, chosen)
        for reply in result.replies:
            if reply.attachment is not None:
                await self._offer(context, user_key, reply.attachment)
        for kind, file in report_files:
            await self._offer(context, user_key, file, again=f"report {kind}")

    # -- files --------------------------------------------------------------------------

    async def _offer(
        self, context: TurnContext, user_key: str, file: FileAttachment, *, again: str = MY_DATA
    ) -> None:
        """Send a file-consent card for ``file`` and keep its content until it is answered.

        Args:
            again: What the person types to be offered the file again, if this offer fails.
        """
        now = self.engine.clock.now().timestamp()
        for key in [k for k, offer in self._offers.items() if offer.expires_at <= now]:
            del self._offers[key]
        while len(self._offers) >= OFFER_LIMIT:
            self._offers.pop(next(iter(self._offers)))
        key = secrets.token_urlsafe(16)
        self._offers[key] = _Offer(user_key, file, now + OFFER_SECONDS, again)
        card = Attachment(
            content_type=files.FILE_CONSENT_TYPE,
            name=file.filename,
            content=files.file_consent(file, key, again=again),
        )
        if not await self._send(context, MessageFactory.attachment(card)):
            self._offers.pop(key, None)
            log.warning("teams: could not offer %s", file.filename)

    def _take_offer(self, context: TurnContext, answer: FileConsentCardResponse) -> _Offer | None:
        """The offer a consent answer is about, removed; None if unknown, expired or not theirs.

        A meeting's invite is not kept here: its card carries it (see bot.teams.files), and
        it was offered in this person's own chat.
        """
        key = files.consent_key(answer.context)
        offer = self._offers.get(key) if key else None
        sender = context.activity.from_property
        user_key = (sender.aad_object_id or sender.id) if sender is not None else None
        invite = files.carried_invite(answer.context) if offer is None else None
        if invite is not None and user_key:
            return _Offer(user_key, invite, float("inf"), files.INVITE_AGAIN)
        if offer is None or offer.user_key != user_key:
            return None
        assert key is not None
        del self._offers[key]
        if offer.expires_at <= self.engine.clock.now().timestamp():
            return None
        return offer

    async def file_accepted(self, context: TurnContext, answer: FileConsentCardResponse) -> None:
        """The person allowed a file: upload it to their OneDrive and show it in the chat.

        Once per card: a second Allow of the same card gets :data:`ALREADY_SAVED` and
        uploads nothing. An Allow that uploaded nothing (an unknown offer, a failed upload)
        is forgotten, so it may be tried again.
        """
        key = files.consent_key(answer.context)
        if key is not None and not await self._first_accept(key):
            await self._send(context, cards.card_activity([Reply(ALREADY_SAVED)]))
            return
        offer = self._take_offer(context, answer)
        info = answer.upload_info
        if offer is None or info is None or not info.upload_url:
            await self._forget_accept(key)
            again = offer.again if offer else files.consent_again(answer.context) or MY_DATA
            await self._send(context, cards.card_activity([Reply(no_offer(again))]))
            return
        data = offer.attachment.content.encode()
        try:
            await _put_file(info.upload_url, data)
        except (aiohttp.ClientError, TimeoutError) as exc:
            # The upload URL is a OneDrive address for this person: never logged.
            log.warning(
                "teams: could not upload %s (%s)", offer.attachment.filename, type(exc).__name__
            )
            await self._forget_accept(key)
            await self._send(context, cards.card_activity([Reply(not_uploaded(offer.again))]))
            return
        shown = Attachment(
            content_type=files.FILE_INFO_TYPE,
            content_url=info.content_url,
            name=info.name,
            content=files.file_info(unique_id=info.unique_id, file_type=info.file_type),
        )
        await self._send(context, MessageFactory.attachment(shown))

    async def _first_accept(self, key: str) -> bool:
        """Record that the card ``key`` was allowed; False if it was allowed before."""
        async with self.database.session() as session:
            return await first_delivery(
                session, platform=CONSENTS, event_id=key, now=self.engine.clock.now()
            )

    async def _forget_accept(self, key: str | None) -> None:
        """Forget an Allow that uploaded nothing, so the same card can be allowed again."""
        if key is None:
            return
        table = ProcessedEvent.__table__  # type: ignore[attr-defined]
        async with self.database.session() as session:
            conn = await session.connection()
            await conn.execute(
                sa.delete(table).where(table.c.platform == CONSENTS, table.c.event_id == key[:200])
            )

    async def file_declined(self, context: TurnContext, answer: FileConsentCardResponse) -> None:
        """The person declined a file: forget it and say so."""
        offer = self._take_offer(context, answer)
        again = files.consent_again(answer.context) or MY_DATA
        text = DECLINED if offer else no_offer(again)
        await self._send(context, cards.card_activity([Reply(text)]))

    async def _submit(self, context: TurnContext, inbound: Inbound) -> None:
        """A submitted form card: saved, or its problems listed and the card sent again."""
        submission = inbound.form
        assert submission is not None
        if submission.form not in self.engine.forms:
            await self._send(context, cards.card_activity([Reply(OUTDATED_FORM)]))
            return
        result = await self.engine.submit(inbound)
        if not result.errors:
            if result.replies and await self._send(context, cards.card_activity(result.replies)):
                activity = context.activity
                if activity.reply_to_id:
                    await self._mark_answered(context, activity, "Sent")
            return
        if not await self._send(context, cards.card_activity([Reply(problems(result))])):
            return
        form = result.form
        if form is not None:
            again = Reply(form.intro or form.title, title=form.title, form=form)
            await self._send(context, cards.card_activity([again]))

    async def _send(self, context: TurnContext, activity: Activity) -> bool:
        delay = self.retry_delay
        for attempt in range(1, self.send_attempts + 1):
            try:
                await context.send_activity(activity)
                return True
            except Exception as exc:
                log.warning("teams: reply attempt %d failed (%s)", attempt, type(exc).__name__)
                if attempt < self.send_attempts:
                    await self.sleep(delay)
                    delay *= 2
        return False

    async def _mark_answered(self, context: TurnContext, activity: Activity, chosen: str) -> None:
        question = ""
        if isinstance(activity.value, dict):
            question = str(activity.value.get(elements.QUESTION, ""))
        update = MessageFactory.attachment(
            Attachment(
                content_type=elements.CARD_TYPE,
                content=cards.answered_card(question, chosen or "answered"),
            )
        )
        update.id = activity.reply_to_id
        try:
            await context.update_activity(update)
        except Exception as exc:
            log.warning("teams: could not mark a card answered (%s)", type(exc).__name__)

    async def _on_turn_error(self, context: TurnContext, error: Exception) -> None:
        """The edge's error boundary: log with context (never the text), apologise, reset."""
        activity = context.activity
        if isinstance(error, UserError):
            await self._send(context, cards.card_activity([Reply(str(error))]))
            return
        # Never the text nor the error's message: either may hold a private answer.
        reference = log_failure(
            log,
            "teams turn failed",
            error=error,
            type=activity.type,
            conversation=activity.conversation.id if activity.conversation else None,
        )
        sender = activity.from_property
        if sender is not None:
            async with self.database.session() as session:
                key = sender.aad_object_id or sender.id
                # Only a link in the turn's own tenant: never reset a stranger's namesake.
                account = await account_of(
                    session,
                    platform=PLATFORM,
                    external_id=key,
                    tenant=context.turn_state.get(TENANT_KEY),
                )
            if account is not None:
                await self.engine.reset(Inbound(PLATFORM, key, account.person_id))
        await self._send(
            context,
            cards.card_activity([Reply(TURN_FAILED.format(reference=reference))]),
        )


class _MentorBot(TeamsActivityHandler):  # type: ignore[misc]
    """Routes Teams activities to the channel."""

    def __init__(self, channel: TeamsChannel) -> None:
        super().__init__()
        self.channel = channel

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await self.channel.converse(turn_context)

    async def on_teams_file_consent_accept(
        self, turn_context: TurnContext, file_consent_card_response: FileConsentCardResponse
    ) -> None:
        await self.channel.file_accepted(turn_context, file_consent_card_response)

    async def on_teams_file_consent_decline(
        self, turn_context: TurnContext, file_consent_card_response: FileConsentCardResponse
    ) -> None:
        await self.channel.file_declined(turn_context, file_consent_card_response)

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(m.id != bot_id for m in members_added):
            # Who joined is not known yet (no directory lookup on install): a plain hello.
            hello = greeting(self.channel.engine.programs, first_name="there")
            await self.channel._send(
                turn_context,
                cards.card_activity([Reply(hello.replace("Hi there!", "Hi!", 1))]),
            )


def problems(result: FormResult) -> str:
    """What to fix in a submitted form, one line per question, in the form's order."""
    form = result.form
    prompts = {q.id: q.prompt for q in form.questions} if form is not None else {}
    order = {question_id: i for i, question_id in enumerate(prompts)}
    lines = ["Nothing was saved yet; please fix this and send the form again:"]
    for question_id, message in sorted(
        result.errors.items(), key=lambda item: order.get(item[0], len(order))
    ):
        prompt = prompts.get(question_id)
        lines.append(f"• {prompt}: {message}" if prompt else f"• {message}")
    return "\n".join(lines)


async def _put_file(upload_url: str, data: bytes) -> None:
    """PUT a whole file to the upload session Teams opened in the person's OneDrive.

    Raises:
        aiohttp.ClientError: The upload failed or was refused.
        TimeoutError: It took too long.
    """
    size = len(data)
    headers = {
        "Content-Range": f"bytes 0-{size - 1}/{size}",
        "Content-Length": str(size),
    }
    timeout = aiohttp.ClientTimeout(total=60)
    async with (
        aiohttp.ClientSession(timeout=timeout) as http,
        http.put(upload_url, data=data, headers=headers) as response,
    ):
        response.raise_for_status()


__all__ = ["TeamsChannel"]
