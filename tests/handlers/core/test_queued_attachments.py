"""A small file (a meeting's invite) can wait in the outbox with its message."""

from __future__ import annotations

import json

import pytest

from handlers.core.messages import (
    QUEUED_ATTACHMENT_BYTES,
    Attachment,
    Reply,
    reply_from_dict,
    reply_to_dict,
)


def test_a_small_attachment_survives_the_outbox_payload() -> None:
    invite = Attachment(
        "mentoring-invite-1-v0.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar"
    )
    reply = Reply("Your mentoring meeting: see the invite.", attachment=invite)
    stored = json.loads(json.dumps(reply_to_dict(reply)))
    assert reply_from_dict(stored) == reply


def test_a_message_without_an_attachment_is_stored_without_one() -> None:
    assert "attachment" not in reply_to_dict(Reply("Hello"))
    assert reply_from_dict(reply_to_dict(Reply("Hello"))).attachment is None


def test_a_large_attachment_is_refused_by_the_outbox() -> None:
    big = Attachment("export.json", "x" * (QUEUED_ATTACHMENT_BYTES + 1), "application/json")
    with pytest.raises(ValueError, match="too large to queue"):
        reply_to_dict(Reply("Your data.", attachment=big))
