"""Handing a person a file in Teams: the file-consent flow.

A bot cannot post a file into a personal chat; it offers one on a file-consent card
(:func:`file_consent`), Teams asks the person to Allow or Decline, and on Allow hands back
an upload URL in their OneDrive; the stored file is then shown with a file-info card
(:func:`file_info`). The offer's key and what to type for the file again travel in the
card's context (:func:`consent_key`, :func:`consent_again`). bot.teams.app holds the
pending offers and does the upload.

A meeting's invite is offered the same way, on a card the outbox sender posts
(:func:`invite_consent`), but the invite travels in the card's own context instead of this
process's memory: it may be allowed days later, after a restart, on another replica. It is
small, it goes to the one person in the chat anyway, and it holds titles and times only;
:func:`carried_invite` reads it back, checked, when Teams hands the context back.
"""

from __future__ import annotations

import re
from typing import Any

from handlers import Attachment
from handlers.core.messages import QUEUED_ATTACHMENT_BYTES

#: An offer to save a file in the person's OneDrive, with Allow and Decline buttons.
FILE_CONSENT_TYPE = "application/vnd.microsoft.teams.card.file.consent"
#: A file already in the person's OneDrive, shown as a file in the chat.
FILE_INFO_TYPE = "application/vnd.microsoft.teams.card.file.info"


def file_consent(attachment: Attachment, key: str, *, again: str = "my-data") -> dict[str, Any]:
    """The content of a file-consent card offering ``attachment``.

    Args:
        attachment: The file offered.
        key: Names the pending offer; Teams hands it back when the person accepts or declines.
        again: What the person types to be offered the file again; handed back too, so even
            an offer this process no longer knows can say what to do.
    """
    context = {"key": key, "again": again}
    return {
        "description": f"{attachment.filename}: from mentorbot, for you only.",
        "sizeInBytes": len(attachment.content.encode()),
        "acceptContext": context,
        "declineContext": context,
    }


def file_info(*, unique_id: str, file_type: str) -> dict[str, Any]:
    """The content of a file-info card for a file Teams has just stored."""
    return {"uniqueId": unique_id, "fileType": file_type}


def consent_key(context: Any) -> str | None:
    """The offer's key from the ``context`` of a file-consent answer, or None."""
    if not isinstance(context, dict):
        return None
    key = context.get("key")
    return key if isinstance(key, str) and key else None


#: What a consent card may say to type again: only the bot's own commands.
_AGAIN = re.compile(r"my-data|calendar|report [a-z][a-z0-9-]{0,40}")
#: What an invite offer types again for its file: the feed keeps meetings in a calendar.
INVITE_AGAIN = "calendar"
#: The names invites are sent under (handlers.meetings.invites.invite_filename).
_INVITE_NAME = re.compile(r"mentoring-[a-z]+-\d{1,12}-v\d{1,9}\.ics")


def invite_consent(attachment: Attachment, key: str) -> dict[str, Any]:
    """A file-consent card's content for a meeting's invite, carrying the invite itself."""
    content = file_consent(attachment, key, again=INVITE_AGAIN)
    carried = {
        **content["acceptContext"],
        "invite": {"filename": attachment.filename, "content": attachment.content},
    }
    return {**content, "acceptContext": carried, "declineContext": carried}


def carried_invite(context: Any) -> Attachment | None:
    """The invite a consent answer's context carries, or None if it carries no sound one."""
    invite = context.get("invite") if isinstance(context, dict) else None
    if not isinstance(invite, dict):
        return None
    filename, content = invite.get("filename"), invite.get("content")
    if not isinstance(filename, str) or not _INVITE_NAME.fullmatch(filename):
        return None
    if not isinstance(content, str) or len(content.encode()) > QUEUED_ATTACHMENT_BYTES:
        return None
    if not content.startswith("BEGIN:VCALENDAR"):
        return None
    return Attachment(filename, content, "text/calendar")


def consent_again(context: Any) -> str | None:
    """What a file-consent answer says to type for the file again, or None if nothing usable."""
    if not isinstance(context, dict):
        return None
    again = context.get("again")
    return again if isinstance(again, str) and _AGAIN.fullmatch(again) else None
