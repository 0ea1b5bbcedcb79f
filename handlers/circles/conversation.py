"""Where a circle talks: its group conversation on each platform, remembered on the circle.

Everything said to a circle shares a group key ``circle:ID:WHAT`` (see
handlers.circles.lifecycle.tell_circle). The outbox worker asks :func:`group_place` where the
circle talks before it hands a circle's message to a platform that has group conversations,
and :func:`remember_place` keeps what the platform's sender learned (a Slack channel it
created, who it invited) on ``Circle.conversation``, so later messages go to the same place
and nobody is invited twice.

Teams has no group chat a bot can start: each person reads the circle's messages in their own
chat with the bot. The facilitator can name a Teams channel for the circle (``circle channel
LINK``, :func:`teams_channel_id`); it is stored and shown in the circle's messages. Nothing
is posted there: the Teams app is personal-scope only (bot/teams/manifest.py), so it is in
no team; ``circle channel`` tells the facilitator to bring the members to the channel.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlparse

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.ports import GroupPlace
from storage import Circle

#: The group keys of a circle's messages: ``circle:ID:WHAT``.
_CIRCLE_KEY = re.compile(r"^circle:(\d+):")
#: A Teams channel's conversation id, as a channel link carries it.
_TEAMS_CHANNEL = re.compile(r"^19:[A-Za-z0-9_\-]+@thread\.(tacv2|skype)$")
#: Where the Teams channel's id and link are kept on ``Circle.conversation``.
TEAMS_CHANNEL = "teams_channel"
TEAMS_CHANNEL_LINK = "teams_channel_link"


def circle_of(group_key: str | None) -> int | None:
    """The circle a group key belongs to, if it is a circle's."""
    found = _CIRCLE_KEY.match(group_key or "")
    return int(found.group(1)) if found else None


async def group_place(session: AsyncSession, group_key: str | None) -> GroupPlace | None:
    """Where the circle of this group key talks (None for a group that is not a circle's)."""
    circle_id = circle_of(group_key)
    if circle_id is None:
        return None
    circle = await session.get(Circle, circle_id)
    if circle is None:
        return None
    return GroupPlace(
        key=f"circle:{circle_id}",
        name=f"circle {circle_id} {circle.program}",
        remembered=dict(circle.conversation),
    )


async def remember_place(session: AsyncSession, place: GroupPlace, *, read: dict[str, Any]) -> bool:
    """Keep on the circle what a sender learned (the keys of ``place.remembered`` that
    differ from ``read``, what was read before the send); whether anything changed."""
    circle_id = circle_of(place.key + ":")
    changed = {k: v for k, v in place.remembered.items() if read.get(k) != v}
    if circle_id is None or not changed:
        return False
    circle = await session.get(Circle, circle_id, with_for_update=True)
    if circle is None:
        return False
    circle.conversation = {**circle.conversation, **changed}
    session.add(circle)
    return True


def teams_channel_id(link: str) -> str | None:
    """The conversation id of a Teams channel from its link ("Get link to channel"), or None.

    A link reads ``https://teams.microsoft.com/l/channel/19%3a...%40thread.tacv2/Name?groupId=
    ...&tenantId=...``; the id is the path's part after ``/l/channel/``, URL-decoded.
    """
    parsed = urlparse(link.strip().strip("<>"))
    if parsed.scheme != "https" or not parsed.netloc.endswith("teams.microsoft.com"):
        return None
    parts = parsed.path.split("/")
    if len(parts) < 4 or parts[1:3] != ["l", "channel"]:
        return None
    channel = unquote(parts[3])
    return channel if _TEAMS_CHANNEL.match(channel) else None
