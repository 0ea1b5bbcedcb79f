"""Teams serves only the Microsoft 365 tenants it is configured for.

A stranger from another tenant whose roster email reads as a program lead's must never be
taken for that lead: their activity is refused before anything is stored or sent, in every
auth mode, and a link made in one tenant never resolves for a user of another.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Environment, parse_tenants
from bot.teams.settings import TeamsSettings, activity_tenant
from handlers.core.messages import Reply
from handlers.core.outbox import enqueue
from handlers.core.program import Program
from storage import (
    ConversationRef,
    ConversationState,
    Database,
    Outbox,
    Person,
    PlatformAccount,
)
from storage.queries import account_of, link_account, save_reference
from tests.bot.cli_helpers import ROOT, mentorbot, start_serve
from tests.bot.teams_harness import LEAD, TENANT, TeamsHarness, in_tenant, teams_server
from tests.fakes.bot_connector import APP_ID
from tests.helpers import make_person, rows

#: A tenant the bot does not serve (another company's Microsoft 365).
STRANGER_TENANT = "0b0b0b0b-1111-4222-8333-444444444444"
#: A second tenant, served alongside TENANT in some tests.
OTHER_SERVED = "5e5e5e5e-6666-4777-8888-999999999999"
PRIVATE_TEXT = "report summary — my private note about my manager"
NOW = datetime(2026, 11, 1, tzinfo=UTC)


async def _nothing_kept(database: Database) -> None:
    for table in (Person, PlatformAccount, ConversationRef, ConversationState):
        assert await rows(database, table) == [], table.__name__


# -- refused activities ---------------------------------------------------------------------


@pytest.mark.parametrize("auth", ["token", "emulator"])
@pytest.mark.parametrize("sent_from", ["unknown tenant", "no tenant", "two tenants"])
async def test_an_activity_from_a_tenant_not_served_is_refused_with_nothing_kept_or_sent(
    database: Database,
    program: Program,
    caplog: pytest.LogCaptureFixture,
    auth: str,
    sent_from: str,
) -> None:
    caplog.set_level(logging.INFO)
    emulator = auth == "emulator"
    async with teams_server(
        database,
        program,
        app_id=None if emulator else APP_ID,
        allow_unauthenticated=emulator,
    ) as teams:
        # The stranger's roster says they are the program lead.
        payload = teams.activity(text=PRIVATE_TEXT, **{"from": LEAD})
        if sent_from == "unknown tenant":
            in_tenant(payload, STRANGER_TENANT)
        elif sent_from == "no tenant":
            in_tenant(payload, None)
        else:  # the conversation says a served tenant, the channel data another
            payload["channelData"]["tenant"] = {"id": STRANGER_TENANT}
        response = await teams.post(payload, token=None if emulator else "valid")
        assert response.status == 403
        assert teams.connector.calls == []
    await _nothing_kept(database)
    refusals = [r.getMessage() for r in caplog.records if "refused a 'message'" in r.getMessage()]
    assert refusals, caplog.text
    if sent_from != "no tenant":
        assert STRANGER_TENANT in refusals[0]
    assert "private note" not in caplog.text


async def test_a_greeting_for_a_tenant_not_served_is_not_sent(
    database: Database, program: Program
) -> None:
    async with teams_server(database, program) as teams:
        payload = in_tenant(teams.activity("conversation_update.json"), STRANGER_TENANT)
        assert (await teams.post(payload)).status == 403
        assert teams.connector.calls == []


async def test_with_any_tenant_on_a_stranger_tenant_is_served_and_recorded(
    database: Database, program: Program
) -> None:
    async with teams_server(database, program, tenants=frozenset(), any_tenant=True) as teams:
        response = await teams.post(in_tenant(teams.activity(text="help"), STRANGER_TENANT))
        assert response.status in (200, 201)
        assert "Here's what I can do" in teams.last_text()
    [account] = await rows(database, PlatformAccount)
    assert account.tenant == STRANGER_TENANT


# -- served tenants and their links ---------------------------------------------------------


async def test_an_activity_from_a_served_tenant_is_answered_and_its_link_records_the_tenant(
    database: Database, program: Program
) -> None:
    async with teams_server(database, program) as teams:
        response = await teams.say("help")
        assert response.status in (200, 201)
        assert "Here's what I can do" in teams.last_text()
    [account] = await rows(database, PlatformAccount)
    assert account.tenant == TENANT
    [reference] = await rows(database, ConversationRef)
    assert reference.reference["conversation"]["tenantId"] == TENANT


async def test_a_link_made_in_one_tenant_is_not_used_for_a_user_of_another(
    database: Database, program: Program
) -> None:
    async with teams_server(database, program, tenants=frozenset({TENANT, OTHER_SERVED})) as teams:
        await teams.say("help", sender=LEAD)
        [lead] = await rows(database, Person)
        assert lead.email == "priya.shah@example.com"
        # The same user id arrives from the other tenant, whose roster names someone else.
        teams.connector.add_member(
            LEAD["id"], aad=LEAD["aadObjectId"], name="Mallory", email="mallory@other.example"
        )
        lookups = len([c for c in teams.connector.calls if c.verb == "GET"])
        payload = in_tenant(teams.activity(text="status", **{"from": LEAD}), OTHER_SERVED)
        assert (await teams.post(payload)).status in (200, 201)
        assert len([c for c in teams.connector.calls if c.verb == "GET"]) == lookups + 1
    [account] = await rows(database, PlatformAccount)
    linked = next(p for p in await rows(database, Person) if p.id == account.person_id)
    assert (linked.email, account.tenant) == ("mallory@other.example", OTHER_SERVED)


async def test_a_link_made_before_tenants_were_recorded_takes_the_first_served_tenant(
    teams: TeamsHarness, database: Database
) -> None:
    ana = await make_person(database, "ana.lopez@example.com")
    assert ana.id is not None
    async with database.session() as session:
        await link_account(
            session,
            platform="teams",
            external_id="6b1d8f0e-2f3c-4a5b-9c7d-1e2f3a4b5c6d",
            person_id=ana.id,
            now=NOW,
        )
    await teams.say("help")
    assert [c for c in teams.connector.calls if c.verb == "GET"] == []  # the link was used
    [account] = await rows(database, PlatformAccount)
    assert (account.person_id, account.tenant) == (ana.id, TENANT)


# -- storage --------------------------------------------------------------------------------


async def test_a_link_resolves_only_in_its_own_tenant(database: Database) -> None:
    person = await make_person(database, "priya.shah@example.com")
    assert person.id is not None
    async with database.session() as session:
        await link_account(
            session, platform="teams", external_id="aad-1", person_id=person.id, now=NOW, tenant="a"
        )
    async with database.session() as session:
        mine = await account_of(session, platform="teams", external_id="aad-1", tenant="a")
        theirs = await account_of(session, platform="teams", external_id="aad-1", tenant="b")
        untold = await account_of(session, platform="teams", external_id="aad-1", tenant=None)
    assert mine is not None and mine.person_id == person.id
    assert theirs is None
    assert untold is None


async def test_a_link_without_a_tenant_resolves_for_the_caller_to_adopt(
    database: Database,
) -> None:
    person = await make_person(database, "ana.lopez@example.com")
    assert person.id is not None
    async with database.session() as session:
        await link_account(
            session, platform="teams", external_id="aad-2", person_id=person.id, now=NOW
        )
    async with database.session() as session:
        found = await account_of(session, platform="teams", external_id="aad-2", tenant="a")
    assert found is not None and found.tenant is None


async def test_relinking_from_another_tenant_records_that_tenant(database: Database) -> None:
    priya = await make_person(database, "priya.shah@example.com")
    mallory = await make_person(database, "mallory@other.example")
    assert priya.id is not None and mallory.id is not None
    async with database.session() as session:
        await link_account(
            session, platform="teams", external_id="aad-3", person_id=priya.id, now=NOW, tenant="a"
        )
    async with database.session() as session:
        await link_account(
            session,
            platform="teams",
            external_id="aad-3",
            person_id=mallory.id,
            now=NOW,
            tenant="b",
        )
    [account] = await rows(database, PlatformAccount)
    assert (account.person_id, account.tenant) == (mallory.id, "b")


# -- settings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tenants"),
    [
        ("", frozenset()),
        (" , ,, ", frozenset()),
        ("72F988BF-86f1-41af-91ab-2d7cd011db47", frozenset({TENANT})),
        (f" {TENANT} ,, {OTHER_SERVED},", frozenset({TENANT, OTHER_SERVED})),
    ],
)
def test_the_tenant_list_ignores_blanks_and_case(text: str, tenants: frozenset[str]) -> None:
    assert parse_tenants(text) == tenants
    env = Environment.from_environ({"MENTORBOT_TEAMS_TENANTS": text})
    assert env.teams_tenants == tenants


def test_the_served_tenants_are_the_app_tenant_and_the_list_together() -> None:
    settings = TeamsSettings(tenant_id=TENANT.upper(), tenants=frozenset({OTHER_SERVED}))
    assert settings.serves(TENANT) and settings.serves(OTHER_SERVED)
    assert not settings.serves(STRANGER_TENANT)
    assert not settings.serves(None)
    assert TeamsSettings(any_tenant=True).serves(None)
    assert not TeamsSettings().serves(TENANT)


def test_a_stored_reference_from_a_tenant_no_longer_served_is_not_served() -> None:
    settings = TeamsSettings(tenants=frozenset({TENANT}))
    assert settings.serves_reference({"conversation": {"id": "a:1", "tenantId": TENANT}})
    assert not settings.serves_reference(
        {"conversation": {"id": "a:1", "tenantId": STRANGER_TENANT}}
    )
    assert not settings.serves_reference({"conversation": {"id": "a:1"}})


@pytest.mark.parametrize(
    ("conversation", "channel_data", "expected"),
    [
        (TENANT, {"tenant": {"id": TENANT}}, TENANT),
        (TENANT.upper(), None, TENANT),
        (None, {"tenant": {"id": TENANT}}, TENANT),
        (None, None, None),
        ("", {"tenant": {}}, None),
    ],
)
def test_the_tenant_is_read_from_either_place(
    conversation: str | None, channel_data: object, expected: str | None
) -> None:
    assert activity_tenant(conversation, channel_data) == expected


@pytest.mark.parametrize(
    ("conversation", "channel_data"),
    [(TENANT, {"tenant": {"id": STRANGER_TENANT}}), (123, None), (None, {"tenant": {"id": []}})],
)
def test_a_tenant_named_twice_differently_or_not_as_text_is_no_tenant(
    conversation: object, channel_data: object
) -> None:
    with pytest.raises(ValueError, match="tenant"):
        activity_tenant(conversation, channel_data)


# -- startup --------------------------------------------------------------------------------

TEAMS_APP = {
    "MicrosoftAppId": APP_ID,
    "MicrosoftAppPassword": "not-a-real-secret",
}


@pytest.mark.parametrize(
    "teams_env",
    [TEAMS_APP, {"MENTORBOT_TEAMS_ALLOW_UNAUTHENTICATED": "1"}],
    ids=["app id", "emulator"],
)
def test_serve_refuses_teams_without_a_tenant_setting(
    tmp_path: Path, teams_env: dict[str, str]
) -> None:
    result = mentorbot(
        "serve",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db",
        extra_env={**teams_env, "MENTORBOT_TEAMS_TENANTS": " , "},
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "mentorbot: Teams serves no tenant: set MicrosoftAppTenantId or MENTORBOT_TEAMS_TENANTS "
        "(comma-separated tenant ids), or MENTORBOT_TEAMS_ANY_TENANT=1 to serve every "
        "Microsoft 365 tenant"
    )


@pytest.mark.parametrize(
    "tenant_env",
    [
        {"MicrosoftAppTenantId": TENANT},
        {"MENTORBOT_TEAMS_TENANTS": f"{TENANT},{OTHER_SERVED}"},
        {"MENTORBOT_TEAMS_ANY_TENANT": "1"},
    ],
    ids=["app tenant", "tenant list", "any tenant"],
)
def test_a_tenant_setting_is_what_lets_teams_start(tenant_env: dict[str, str]) -> None:
    without = Environment.from_environ(TEAMS_APP)
    assert without.teams_problem("127.0.0.1", loopback=True) is not None
    with_tenant = Environment.from_environ({**TEAMS_APP, **tenant_env})
    assert with_tenant.teams_problem("127.0.0.1", loopback=True) is None


async def test_serve_starts_teams_for_every_tenant_when_told_so(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MENTORBOT_", "SLACK_", "Microsoft", "OPENAI_"))
    }
    env.update(
        MENTORBOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/x.db",
        MENTORBOT_CONFIG=str(ROOT / "app.yaml"),
        MENTORBOT_TEAMS_ALLOW_UNAUTHENTICATED="1",
        MENTORBOT_TEAMS_ANY_TENANT="1",
    )
    process = await start_serve(env)
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        assert re.search(r"Teams: unauthenticated, loopback only", line), line
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
    assert code == 0


# -- proactive messages ---------------------------------------------------------------------


async def _queue(teams: TeamsHarness, database: Database, person_id: int, key: str) -> None:
    async with database.session() as session:
        await enqueue(
            session,
            person_id=person_id,
            replies=[Reply("Your check-in is due")],
            dedupe_key=key,
            now=teams.runtime.clock.now(),
        )


async def test_a_reference_from_a_tenant_no_longer_served_is_not_used_and_the_outbox_says_why(
    database: Database, program: Program
) -> None:
    async with teams_server(database, program, tenants=frozenset({TENANT, OTHER_SERVED})) as teams:
        payload = in_tenant(teams.activity(text="help"), OTHER_SERVED)
        assert (await teams.post(payload)).status in (200, 201)
    [ana] = await rows(database, Person)
    # The company stops serving OTHER_SERVED; Ana's stored reference is still there.
    async with teams_server(database, program, tenants=frozenset({TENANT})) as teams:
        [stored] = await rows(database, ConversationRef)
        async with database.session() as session:  # reachable, as a real connector is
            await save_reference(
                session,
                person_id=ana.id,
                platform="teams",
                reference={**stored.reference, "serviceUrl": teams.connector.url},
                now=NOW,
            )
        await _queue(teams, database, ana.id, "nudge:1")
        report = await teams.runtime.worker.run_once()
        assert report.undeliverable == 1
        assert teams.connector.calls == []
    [item] = await rows(database, Outbox)
    assert item.status == "undeliverable"
    assert item.last_error is not None
    assert item.last_error.startswith("teams: their Teams tenant is not served")


@pytest.mark.parametrize("their_tenant", [None, STRANGER_TENANT], ids=["none", "not served"])
async def test_an_old_reference_is_used_only_when_the_account_records_a_served_tenant(
    teams: TeamsHarness, database: Database, their_tenant: str | None
) -> None:
    people = {}
    for name, tenant in (("ana", TENANT), ("ben", their_tenant)):
        person = await make_person(database, f"{name}@example.com")
        assert person.id is not None
        people[name] = person.id
        async with database.session() as session:
            await link_account(
                session,
                platform="teams",
                external_id=f"aad-{name}",
                person_id=person.id,
                now=NOW,
                tenant=tenant,
            )
            # Saved before references recorded their tenant: the conversation names none.
            await save_reference(
                session,
                person_id=person.id,
                platform="teams",
                reference={
                    "user": {"id": f"29:{name}", "name": name},
                    "bot": {"id": f"28:{APP_ID}", "name": "mentorbot"},
                    "conversation": {"id": f"a:chat-with-{name}", "conversationType": "personal"},
                    "channelId": "msteams",
                    "serviceUrl": teams.connector.url,
                },
                now=NOW,
            )
        await _queue(teams, database, person.id, f"nudge:{name}")
    report = await teams.runtime.worker.run_once()
    assert (report.sent, report.undeliverable) == (1, 1)
    assert [c.path.split("/")[3] for c in teams.connector.sent_calls()] == ["a:chat-with-ana"]
    outcome = {item.person_id: item for item in await rows(database, Outbox)}
    assert outcome[people["ana"]].status == "sent"
    refused = outcome[people["ben"]]
    assert refused.status == "undeliverable"
    assert refused.last_error is not None
    assert refused.last_error.startswith("teams: their Teams tenant is not served")
