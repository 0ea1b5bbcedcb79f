"""``invite PROGRAM EMAIL...``: invitations, the invitee's message, repeats, and who may invite."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handlers import build_engine, take_waiting
from handlers.core.engine import Engine
from handlers.core.programs import Programs
from storage import AuditEntry, Database, Invitation, Outbox
from tests.helpers import Chat, FakeClock, enroll_as, make_person, rows

DURING = datetime(2027, 1, 11, 10, 0, tzinfo=UTC)


@pytest.fixture
def engine(database: Database, programs: Programs) -> Engine:
    return build_engine(programs=programs, database=database, clock=FakeClock(DURING))


@pytest.fixture
async def priya(engine: Engine) -> Chat:
    lead = await make_person(engine.database, "priya.shah@example.com", name="Priya Shah")
    for email, name in (
        ("ana.lopez@example.com", "Ana Lopez"),
        ("cara.diaz@example.com", "Cara Diaz"),
    ):
        await make_person(engine.database, email, name=name, department="Sales", level=3)
    await make_person(engine.database, "ben.ng@example.com", name="Ben Ng", department="Legal")
    return Chat(engine, lead)


async def test_an_invitation_is_stored_and_the_invitee_gets_a_join_button(
    priya: Chat, database: Database
) -> None:
    reply = await priya.send("invite sales-pilot ana.lopez@example.com Cara.Diaz@example.com")
    assert reply == (
        "Invited 2 to Sales Leadership Pilot: Ana Lopez <ana.lopez@example.com>, Cara Diaz "
        "<cara.diaz@example.com>."
    )
    invitations = await rows(database, Invitation)
    assert {(i.program, i.invited_by) for i in invitations} == {("sales-pilot", priya.person.id)}
    ana_id = min(i.person_id for i in invitations)
    keys = sorted(o.dedupe_key for o in await rows(database, Outbox))
    assert keys == sorted(f"invite:sales-pilot:{i.person_id}" for i in invitations)
    async with database.session() as session:
        [message] = await take_waiting(session, person_id=ana_id, channel="shell", now=DURING)
    assert message.text.startswith("Priya Shah invited you to Sales Leadership Pilot.")
    assert "enrol by Fri 29 Jan, starts Mon 1 Feb" in message.text
    assert [a.value for a in message.actions] == ["join sales-pilot"]
    [entry] = await rows(database, AuditEntry)
    assert (entry.actor, entry.action, entry.target, entry.allowed) == (
        "priya.shah@example.com",
        "invite",
        "sales-pilot",
        True,
    )


async def test_inviting_again_changes_nothing(priya: Chat, database: Database) -> None:
    await priya.send("invite sales-pilot ana.lopez@example.com")
    reply = await priya.send("invite sales-pilot ana.lopez@example.com")
    assert reply == (
        "Nobody new invited to Sales Leadership Pilot; 1 already invited: Ana Lopez "
        "<ana.lopez@example.com>."
    )
    assert len(await rows(database, Invitation)) == 1
    assert len(await rows(database, Outbox)) == 1
    assert len(await rows(database, AuditEntry)) == 1


async def test_the_summary_says_what_happened_to_each_address(
    priya: Chat, database: Database
) -> None:
    cara = await make_person(database, "cara.diaz@example.com")
    await enroll_as(database, cara, "mentee", program="sales-pilot", answers={})
    reply = await priya.send(
        "invite sales-pilot ana.lopez@example.com cara.diaz@example.com ben.ng@example.com "
        "zed@example.com not-an-email"
    )
    assert reply == (
        "Invited 1 to Sales Leadership Pilot: Ana Lopez <ana.lopez@example.com>; 1 already "
        "enrolled: Cara Diaz <cara.diaz@example.com>; 1 not invited, the program's rules keep "
        "them out: Ben Ng (This program is for the Sales department); 1 not in the directory: "
        "zed@example.com (people import adds them); 1 not an email address: 'not-an-email'."
    )
    assert len(await rows(database, Invitation)) == 1


async def test_a_lead_of_one_program_names_it_or_not(engine: Engine, database: Database) -> None:
    marcus = Chat(engine, await make_person(database, "marcus.lee@example.com"))
    await make_person(database, "ana.lopez@example.com", name="Ana Lopez", level=3)
    assert (await marcus.send("invite ana.lopez@example.com")).startswith(
        "Which program? Type invite, the program's id and the emails: reverse-2027"
    )
    assert (await marcus.send("invite peer-circle")).startswith(
        "Type invite, the program's id and one or more email addresses"
    )
    assert (await marcus.send("invite pear-circle ana.lopez@example.com")) == (
        "There's no program 'pear-circle'; the programs you lead: reverse-2027, peer-circle."
    )
    assert await rows(database, Invitation) == []


async def test_someone_who_leads_nothing_or_another_program_is_refused_and_audited(
    engine: Engine, priya: Chat, database: Database
) -> None:
    ana = Chat(engine, await make_person(database, "ana.lopez@example.com"))
    marcus = Chat(engine, await make_person(database, "marcus.lee@example.com"))
    reply = await ana.send("invite sales-pilot cara.diaz@example.com")
    assert reply.startswith("Sorry, invite is for the program leads only.")
    reply = await marcus.send("invite sales-pilot cara.diaz@example.com")
    assert reply == "You don't lead Sales Leadership Pilot, so you can't invite people to it."
    assert await rows(database, Invitation) == []
    assert await rows(database, Outbox) == []
    refused = [(e.actor, e.action, e.allowed) for e in await rows(database, AuditEntry)]
    assert refused == [
        ("ana.lopez@example.com", "invite", False),
        ("marcus.lee@example.com", "invite", False),
    ]
