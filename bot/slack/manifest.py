"""The Slack app manifest ``mentorbot slack-manifest`` prints."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

BOT_SCOPES = [
    "app_mentions:read",  # a mention in a channel gets a pointer to the DM
    "chat:write",  # answers, questions, nudges
    "commands",  # /mentor
    "files:write",  # a report's chart (PNG) or the export (CSV), uploaded to the lead's DM
    "groups:write",  # a private channel for a mentor circle too big for a group DM
    "im:history",  # read the DM (message.im)
    "im:read",
    "im:write",  # open the DM (conversations.open)
    "mpim:write",  # open a group DM with both sides of a new pairing (the kickoff)
    "users:read",  # users.info
    "users:read.email",  # link a Slack user to the directory by email
]
BOT_EVENTS = ["app_home_opened", "app_mention", "message.im"]


class ManifestError(ValueError):
    """The base URL cannot be used; the message says why."""


def slack_manifest(
    *, url: str | None, name: str = "mentorbot", socket_mode: bool = False
) -> dict[str, Any]:
    """A complete Slack app manifest pointing every request at ``URL/slack/events``.

    Raises:
        ManifestError: the URL is not an https URL (Slack only calls https endpoints).
    """
    endpoint = None
    if not socket_mode:
        if not url:
            raise ManifestError("give --url https://your.host (or --socket-mode for local use)")
        parsed = urlparse(url)
        if parsed.scheme != "https" or not parsed.netloc:
            raise ManifestError(
                f"{url!r} is not an https URL; Slack only sends requests to https://HOST"
            )
        endpoint = f"https://{parsed.netloc}{parsed.path.rstrip('/')}/slack/events"
    command: dict[str, Any] = {
        "command": "/mentor",
        "description": "The mentorship program: join, status, help",
        "usage_hint": "[help | join | status]",
        "should_escape": False,
    }
    events: dict[str, Any] = {"bot_events": BOT_EVENTS}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if endpoint:
        command["url"] = endpoint
        events["request_url"] = endpoint
        interactivity["request_url"] = endpoint
    return {
        "display_information": {
            "name": name,
            "description": "Runs the company mentorship program: intake, matching, check-ins.",
            "background_color": "#1f4e79",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": [command],
        },
        "oauth_config": {"scopes": {"bot": BOT_SCOPES}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }
