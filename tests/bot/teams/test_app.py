"""Teams end to end: Bot Framework activities into the real server, answers through a fake
Bot Connector, tokens validated by botbuilder against a locally published signing key."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from handlers.core.messages import Reply
from handlers.core.outbox import enqueue
from handlers.core.program import Program
from storage import (
    ConversationRef,
    ConversationState,
    Database,
    Enrollment,
    Outbox,
    Person,
    PlatformAccount,
)
from tests.bot.teams_harness import BOT_TOKEN, TeamsHarness, teams_server
from tests.helpers import MENTEE_STORED, make_person, rows


async def test_a_message_is_answered_with_a_card(teams: TeamsHarness) -> None:
    response = await teams.say("help")
    assert response.status in (200, 201)
    [sent] = teams.connector.sent()
    [attachment] = sent["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert "Here's what I can do" in card["fallbackText"]
    assert card["version"] == "1.4"
    reply_call = next(c for c in teams.connector.calls if c.verb == "POST")
    assert reply_call.path.startswith("/v3/conversations/a:1PersonalChatWithAna/activities")
    assert reply_call.authorization == f"Bearer {BOT_TOKEN}"


async def test_whole_intake_through_cards(teams: TeamsHarness, database: Database) -> None:
    await teams.say("join")
    card = teams.last_card()
    choice = next(b for b in card["body"] if b["type"] == "Input.ChoiceSet")
    assert (choice["style"], choice["isMultiSelect"]) == ("expanded", False)
    await teams.submit("Mentee: I'd like a mentor")
    text_input = next(b for b in teams.last_card()["body"] if b["type"] == "Input.Text")
    assert text_input["isRequired"] is True
    await teams.submit(text="Get ready to lead a team of five")
    multi = next(b for b in teams.last_card()["body"] if b["type"] == "Input.ChoiceSet")
    assert multi["isMultiSelect"] is True
    competencies_card = teams.last_card_id()
    await teams.submit("Strategic judgment", "People leadership")
    await teams.submit("Trying it myself with feedback")
    await teams.submit("One-on-one", "Shadowing")
    number = next(b for b in teams.last_card()["body"] if b["type"] == "Input.Number")
    assert (number["min"], number["max"]) == (1, 20)
    await teams.submit(text="3")
    await teams.say("I prefer mornings")
    assert "Here is what you told me" in teams.last_text()
    await teams.submit("Yes, save")
    assert "You're enrolled as a mentee" in teams.last_text()

    [enrollment] = await rows(database, Enrollment)
    assert enrollment.answers == MENTEE_STORED
    [person] = await rows(database, Person)
    assert (person.email, person.name) == ("ana.lopez@example.com", "Ana Lopez")
    [account] = await rows(database, PlatformAccount)
    assert (account.platform, account.external_id) == (
        "teams",
        "6b1d8f0e-2f3c-4a5b-9c7d-1e2f3a4b5c6d",
    )
    member_lookups = [c for c in teams.connector.calls if c.verb == "GET"]
    assert len(member_lookups) == 1
    # Each answered card was replaced by its answer, so it cannot be submitted twice.
    updates = teams.connector.updates()
    assert len(updates) == 7
    assert updates[2].path.endswith(f"/activities/{competencies_card}")
    assert "✓ Strategic judgment, People leadership" in json.dumps(
        updates[2].body, ensure_ascii=False
    )


async def test_an_invalid_card_answer_is_reasked(teams: TeamsHarness, database: Database) -> None:
    await teams.say("join mentee")
    await teams.submit(text="Lead a team")
    await teams.submit("Strategic judgment", "People leadership", "Coaching", "Communication")
    assert "You picked 4. Please pick up to 3" in teams.last_text()
    [state] = await rows(database, ConversationState)
    assert state.step == "question:competencies"
    assert len(teams.connector.updates()) == 1  # only the accepted answer's card


async def test_a_stale_card_changes_nothing(teams: TeamsHarness, database: Database) -> None:
    await teams.say("join")
    first, first_id = teams.last_card(), teams.last_card_id()
    await teams.submit("Mentee: I'd like a mentor", card=first, reply_to=first_id)
    await teams.submit("Mentor: I'd like to mentor someone", card=first, reply_to=first_id)
    assert "already answered, so I left everything as it was" in teams.last_text()
    [state] = await rows(database, ConversationState)
    assert state.data["role"] == "mentee"


async def test_the_conversation_reference_is_stored_every_turn(
    teams: TeamsHarness, database: Database
) -> None:
    await teams.say("help")
    [ref] = await rows(database, ConversationRef)
    assert ref.platform == "teams"
    assert ref.reference["conversation"]["id"] == "a:1PersonalChatWithAna"
    assert ref.reference["serviceUrl"] == teams.connector.url


async def queue_for_ana(teams: TeamsHarness, database: Database, text: str, *, key: str) -> None:
    """Ana opens a chat with the bot (her reference is stored), then a message is queued."""
    await teams.say("help")
    [person] = await rows(database, Person)
    async with database.session() as session:
        await enqueue(
            session,
            person_id=person.id,
            replies=[Reply(text)],
            dedupe_key=key,
            now=teams.runtime.clock.now(),
        )


async def test_a_proactive_message_reaches_a_stored_reference(
    teams: TeamsHarness, database: Database
) -> None:
    await queue_for_ana(
        teams, database, "It's been 14 days since your last session with Ben", key="nudge:1"
    )
    report = await teams.runtime.worker.run_once()
    assert report.sent == 1
    proactive = teams.connector.sent()[-1]
    assert "It's been 14 days" in proactive["attachments"][0]["content"]["fallbackText"]
    assert teams.connector.calls[-1].path.startswith(
        "/v3/conversations/a:1PersonalChatWithAna/activities"
    )
    [item] = await rows(database, Outbox)
    assert (item.status, item.channel) == ("sent", "teams")


async def test_a_proactive_message_that_teams_refuses_waits_in_the_outbox_and_goes_later(
    teams: TeamsHarness, database: Database
) -> None:
    await queue_for_ana(teams, database, "Your check-in is due", key="nudge:500")
    before = len(teams.connector.sent())
    # The connector answers 500 to every try of this delivery (the reply retries inside
    # one attempt too): the message stays queued with the reason.
    teams.connector.fail("POST", 500, times=10)
    report = await teams.runtime.worker.run_once()
    assert (report.sent, report.retried) == (0, 1)
    [item] = await rows(database, Outbox)
    assert item.status == "pending" and item.last_error
    assert len(teams.connector.sent()) == before
    # Teams answers again: once the backoff has passed, it goes out, once.
    teams.connector.failures["POST"].clear()
    teams.runtime.clock.advance(hours=1)
    assert (await teams.runtime.worker.run_once()).sent == 1
    assert (await teams.runtime.worker.run_once()).total == 0
    sent = teams.connector.sent()[before:]
    assert [s["attachments"][0]["content"]["fallbackText"] for s in sent] == [
        "Your check-in is due"
    ]


async def test_someone_who_removed_the_app_is_undeliverable_with_the_reason(
    teams: TeamsHarness, database: Database
) -> None:
    await queue_for_ana(teams, database, "Your check-in is due", key="nudge:403")
    teams.connector.fail("POST", 403, times=10)
    report = await teams.runtime.worker.run_once()
    assert report.undeliverable == 1
    [item] = await rows(database, Outbox)
    assert item.status == "undeliverable"
    assert item.last_error is not None and "removed or blocked the app" in item.last_error


async def test_someone_who_never_opened_a_chat_is_undeliverable(
    teams: TeamsHarness, database: Database
) -> None:
    ben = await make_person(database, "ben.kim@example.com")
    async with database.session() as session:
        await enqueue(
            session,
            person_id=ben.id,
            replies=[Reply("hello")],
            dedupe_key="k",
            now=teams.runtime.clock.now(),
        )
    report = await teams.runtime.worker.run_once()
    assert report.undeliverable == 1
    [item] = await rows(database, Outbox)
    assert item.status == "undeliverable"
    assert (
        item.last_error
        == "teams: has never opened a chat with the bot in Teams; invite them to install the app"
    )
    assert teams.connector.sent() == []
    metrics = await (await teams.http.get(teams.base + "/metrics")).text()
    assert 'mentorbot_outbox_messages{status="undeliverable"} 1.0' in metrics


@pytest.mark.parametrize("lookup", ["no email", "lookup fails"])
async def test_without_an_email_the_person_is_known_by_their_entra_id(
    teams: TeamsHarness, database: Database, lookup: str
) -> None:
    if lookup == "no email":
        teams.connector.add_member(
            "29:1AnaLopezTeamsUserId",
            aad="6b1d8f0e-2f3c-4a5b-9c7d-1e2f3a4b5c6d",
            name="Ana Lopez",
            email=None,
        )
    else:
        teams.connector.members.clear()
    await teams.say("help")
    assert "Here's what I can do" in teams.last_text()
    [person] = await rows(database, Person)
    assert person.email == "aad-6b1d8f0e-2f3c-4a5b-9c7d-1e2f3a4b5c6d@users.teams.invalid"
    assert person.name == "Ana Lopez"
    await teams.say("status")
    assert len(await rows(database, Person)) == 1


async def test_a_failed_reply_is_retried_with_backoff(teams: TeamsHarness) -> None:
    teams.connector.fail("POST", 503, times=2)
    await teams.say("help")
    assert "Here's what I can do" in teams.last_text()
    assert teams.sleeps == [0.5, 1.0]


async def test_a_reply_that_cannot_be_sent_does_not_advance_the_conversation(
    teams: TeamsHarness, database: Database
) -> None:
    await teams.say("join mentee")
    [before] = await rows(database, ConversationState)
    seen, seen_id = teams.last_card(), teams.last_card_id()
    teams.connector.fail("POST", 502, times=3)
    await teams.submit(text="Lead a team", card=seen, reply_to=seen_id)
    [after] = await rows(database, ConversationState)
    assert (after.step, after.version, after.data) == (before.step, before.version, before.data)
    # The card the person still sees keeps working.
    await teams.submit(text="Lead a team", card=seen, reply_to=seen_id)
    [moved] = await rows(database, ConversationState)
    assert moved.step == "question:competencies"


async def test_new_members_are_greeted(teams: TeamsHarness) -> None:
    response = await teams.post(teams.activity("conversation_update.json"))
    assert response.status in (200, 201)
    assert "I'm mentorbot, the assistant for Leadership Mentoring Program 2027" in teams.last_text()


# -- authentication -------------------------------------------------------------------------


def _other_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "not bearer",
        "malformed",
        "wrong key",
        "wrong audience",
        "expired",
        "wrong issuer",
        "other service url",
    ],
)
async def test_requests_without_a_valid_token_get_401_and_no_side_effect(
    teams: TeamsHarness, database: Database, case: str
) -> None:
    url = teams.connector.url
    token = {
        "missing": None,
        "not bearer": "Basic dXNlcjpwYXNz",
        "malformed": "Bearer not.a.jwt",
        "wrong key": "Bearer " + teams.connector.token(service_url=url, key=_other_key()),
        "wrong audience": "Bearer "
        + teams.connector.token(service_url=url, audience="someone-else"),
        "expired": "Bearer " + teams.connector.token(service_url=url, expires_in=-3600),
        "wrong issuer": "Bearer "
        + teams.connector.token(service_url=url, issuer="https://evil.example"),
        "other service url": "Bearer "
        + teams.connector.token(service_url="https://elsewhere.example/"),
    }[case]
    response = await teams.post(teams.activity(text="join mentee"), token=token)
    assert response.status == 401
    assert teams.connector.calls == []
    assert await rows(database, Person) == []
    assert await rows(database, ConversationState) == []


async def test_a_valid_token_is_accepted(teams: TeamsHarness) -> None:
    assert (await teams.say("help")).status in (200, 201)


async def test_without_an_app_id_every_request_is_refused(
    database: Database, program: Program
) -> None:
    async with teams_server(database, program, app_id=None) as teams:
        response = await teams.say("help")
    assert response.status == 401
    assert "MicrosoftAppId" in response.text


async def test_unauthenticated_use_when_allowed_on_loopback(
    database: Database, program: Program
) -> None:
    async with teams_server(database, program, app_id=None, allow_unauthenticated=True) as teams:
        response = await teams.post(teams.activity(text="help"), token=None)
        assert response.status in (200, 201)
        assert "Here's what I can do" in teams.last_text()


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ("not json", 400),
        ("a list", 400),
        ("no serviceUrl", 400),
        ("no conversation", 400),
        ("no type", 400),
        ("no sender", 400),
        ("form body", 415),
    ],
)
async def test_malformed_activities_get_4xx(teams: TeamsHarness, change: str, status: int) -> None:
    payload = teams.activity(text="help")
    raw = None
    content_type = "application/json"
    if change == "not json":
        raw = b"{not json"
    elif change == "a list":
        raw = b"[1, 2]"
    elif change == "no serviceUrl":
        del payload["serviceUrl"]
    elif change == "no conversation":
        del payload["conversation"]
    elif change == "no type":
        del payload["type"]
    elif change == "no sender":
        del payload["from"]
    elif change == "form body":
        raw, content_type = b"a=b", "application/x-www-form-urlencoded"
    response = await teams.post(payload, raw=raw, content_type=content_type)
    assert response.status == status
    assert (await teams.http.get(teams.base + "/healthz")).status == 200


async def test_an_unknown_activity_type_is_ignored(teams: TeamsHarness) -> None:
    response = await teams.post(teams.activity(type="somethingNewFromTeams"))
    assert response.status < 300
    assert teams.connector.sent() == []
