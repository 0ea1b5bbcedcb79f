"""Who a Slack user is: the directory person behind them, and the DM with them.

A Slack user is linked to a person by the email Slack shares (scope ``users:read.email``)
on first contact, and the link is stored (``platform_account``). Links are cached, a
bounded number for a bounded time, so a busy workspace does not read the database on
every click and ``last_seen_at`` still moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slack_sdk.web.async_client import AsyncWebClient

from handlers import UserError, find_or_create_person
from storage import Database
from storage.queries import ANY_TENANT, account_of, link_account

PLATFORM = "slack"
#: Re-read the account from the database after this long, to refresh last_seen_at.
_LINK_TTL_SECONDS = 600.0
_LINK_CACHE_SIZE = 20_000


@dataclass
class _Link:
    person_id: int
    dm_channel: str | None
    checked_at: float


class SlackAccounts:
    """Slack users linked to directory people, with the DM channel of each.

    Args:
        client: The Web API client (users.info, conversations.open).
        database: Where the links are stored.
    """

    def __init__(self, *, client: AsyncWebClient, database: Database) -> None:
        self.client = client
        self.database = database
        self._links: dict[str, _Link] = {}

    async def identify(
        self, team: str, user: str, *, now: datetime, dm_channel: str | None = None
    ) -> tuple[int, str | None]:
        """The directory person behind a Slack user, linked by email on first contact.

        Args:
            team: The workspace id.
            user: The Slack user id.
            now: The engine's clock's now (last seen, the cache's age).
            dm_channel: The DM the request came from, if it did (stored on first contact).

        Returns:
            The person id and the DM channel with them, if known.

        Raises:
            UserError: Slack does not share the user's email.
        """
        key = f"{team}/{user}"
        cached = self._links.get(key)
        if cached is not None and now.timestamp() - cached.checked_at < _LINK_TTL_SECONDS:
            return cached.person_id, cached.dm_channel
        async with self.database.session() as session:
            account = await account_of(
                session, platform=PLATFORM, external_id=key, tenant=ANY_TENANT
            )
            if account is not None:
                account.last_seen_at = now
                session.add(account)
                link = _Link(account.person_id, account.dm_channel, now.timestamp())
                self._remember(key, link)
                return link.person_id, link.dm_channel
        profile = await self._profile(user)
        async with self.database.session() as session:
            person, _ = await find_or_create_person(
                session,
                email=profile["email"],
                name=profile.get("name"),
                timezone=profile.get("tz"),
                now=now,
            )
            assert person.id is not None
            await link_account(
                session,
                platform=PLATFORM,
                external_id=key,
                person_id=person.id,
                now=now,
                dm_channel=dm_channel,
            )
        self._remember(key, _Link(person.id, dm_channel, now.timestamp()))
        return person.id, dm_channel

    def _remember(self, key: str, link: _Link) -> None:
        """Cache a link; the cache is bounded so a large workspace cannot grow it forever."""
        if len(self._links) >= _LINK_CACHE_SIZE:
            self._links.pop(next(iter(self._links)))
        self._links[key] = link

    async def _profile(self, user: str) -> dict[str, str]:
        response = await self.client.users_info(user=user)
        info = response.get("user") or {}
        profile = info.get("profile") or {}
        email = profile.get("email")
        if not email:
            raise UserError(
                "I can't see your email address in Slack, so I can't find you in the company "
                "directory. Ask your Slack admin to give mentorbot the users:read.email scope."
            )
        name = profile.get("real_name") or info.get("real_name") or profile.get("display_name")
        return {"email": email, "name": name or "", "tz": info.get("tz") or ""}

    async def dm_channel(self, team: str, user: str) -> str:
        """The DM channel with a user, opened (and remembered) when needed."""
        key = f"{team}/{user}"
        link = self._links.get(key)
        if link is not None and link.dm_channel:
            return link.dm_channel
        response = await self.client.conversations_open(users=user)
        channel = str(response["channel"]["id"])
        await self.remember_dm(team, user, channel)
        return channel

    async def remember_dm(self, team: str, user: str, channel: str) -> None:
        """Store ``channel`` as the DM with the user, when it is not the one known already."""
        key = f"{team}/{user}"
        link = self._links.get(key)
        if link is not None and link.dm_channel == channel:
            return
        async with self.database.session() as session:
            account = await account_of(
                session, platform=PLATFORM, external_id=key, tenant=ANY_TENANT
            )
            if account is not None:
                account.dm_channel = channel
                session.add(account)
        if link is not None:
            link.dm_channel = channel
