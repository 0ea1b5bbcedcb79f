"""Queries shared by several journeys."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    ConversationRef,
    Enrollment,
    EnrollmentStatus,
    Pairing,
    Person,
    PlatformAccount,
    ProcessedEvent,
    Role,
)


async def person_by_email(session: AsyncSession, email: str) -> Person | None:
    """The directory person with this email (compared in lower case)."""
    result = await session.exec(select(Person).where(Person.email == email.strip().lower()))
    return result.first()


async def enrollments_of(
    session: AsyncSession, person_id: int, *, program: str | None
) -> list[Enrollment]:
    """A person's enrollments in one program (None: in every program), mentee first."""
    statement = select(Enrollment).where(Enrollment.person_id == person_id)
    if program is not None:
        statement = statement.where(Enrollment.program == program)
    result = await session.exec(statement.order_by(Enrollment.id))  # type: ignore[arg-type]
    return sorted(result.all(), key=lambda e: e.role != Role.MENTEE)


async def save_enrollment(
    session: AsyncSession,
    *,
    person_id: int,
    program: str,
    role: Role,
    answers: dict[str, Any],
    capacity: int | None,
    now: datetime,
) -> tuple[Enrollment, bool]:
    """Create or update a person's enrollment in a role.

    A new (or re-joining) mentee waits for a match; a mentor is available. Updating the
    answers of an active enrollment keeps its status and its enrollment date.

    Returns:
        The enrollment and whether it was newly created or re-joined.
    """
    result = await session.exec(
        select(Enrollment).where(
            Enrollment.person_id == person_id,
            Enrollment.program == program,
            Enrollment.role == role.value,
        )
    )
    enrollment = result.first()
    fresh_status = EnrollmentStatus.WAITING if role is Role.MENTEE else EnrollmentStatus.AVAILABLE
    if enrollment is None:
        enrollment = Enrollment(
            person_id=person_id,
            program=program,
            role=role.value,
            status=fresh_status.value,
            answers=answers,
            capacity=capacity,
            enrolled_at=now,
            updated_at=now,
            waiting_since=now if role is Role.MENTEE else None,
        )
        session.add(enrollment)
        await session.flush()
        return enrollment, True
    rejoined = enrollment.status in (EnrollmentStatus.LEFT, EnrollmentStatus.COMPLETED)
    enrollment.answers = answers
    enrollment.capacity = capacity
    enrollment.updated_at = now
    if rejoined:
        enrollment.status = fresh_status.value
        enrollment.enrolled_at = now
        enrollment.waiting_since = now if role is Role.MENTEE else None
    session.add(enrollment)
    await session.flush()
    return enrollment, rejoined


def with_role(enrollments: Sequence[Enrollment], role: Role) -> Enrollment | None:
    """The enrollment in this role, if any."""
    return next((e for e in enrollments if e.role == role.value), None)


def insert_for(conn: AsyncConnection) -> Callable[..., Any]:
    """The dialect's INSERT, which supports ``on_conflict_do_nothing`` on both backends."""
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


async def first_delivery(
    session: AsyncSession, *, platform: str, event_id: str, now: datetime
) -> bool:
    """Record a platform event id; False when it was seen before (a platform's retry).

    The unique (platform, event_id) key makes this hold across replicas.
    """
    conn = await session.connection()
    result = await conn.execute(
        insert_for(conn)(ProcessedEvent.__table__)  # type: ignore[attr-defined]
        .values(platform=platform, event_id=event_id[:200], received_at=now)
        .on_conflict_do_nothing(index_elements=["platform", "event_id"])
    )
    return bool(result.rowcount)


#: The processed_event kind (its ``platform``) under which Slack request signatures are
#: recorded (bot.slack.http): a replayed signed request is refused across replicas.
SLACK_SIGNATURES = "slack-signature"
#: How long a signature's record is needed: Slack refuses a request whose timestamp is
#: more than five minutes off, so after twice that no replay of it can get through.
SIGNATURE_KEPT = timedelta(minutes=10)
#: How long any other record is kept: a platform's event ids (Slack retries a delivery
#: within minutes, Teams likewise) and Teams file-consent keys (an offer waits an hour).
EVENT_KEPT = timedelta(days=2)
#: The most records one call deletes, so a first pass on a long-lived table holds the
#: database's write lock briefly; the rest go on the next ticks.
PRUNE_AT_ONCE = 5000


async def prune_processed_events(session: AsyncSession, *, now: datetime) -> int:
    """Delete the processed_event records that can no longer stop a repeat.

    Signatures older than :data:`SIGNATURE_KEPT`, every other record older than
    :data:`EVENT_KEPT`; a repeat after that is refused by its platform's own checks or
    never comes.

    Returns:
        How many records were deleted (at most :data:`PRUNE_AT_ONCE` a call).
    """
    table = ProcessedEvent.__table__  # type: ignore[attr-defined]
    done = sa.or_(
        table.c.received_at < now - EVENT_KEPT,
        sa.and_(
            table.c.platform == SLACK_SIGNATURES,
            table.c.received_at < now - SIGNATURE_KEPT,
        ),
    )
    # Oldest first, in a fixed order: the same rows however often the subquery runs.
    batch = (
        sa.select(table.c.id)
        .where(done)
        .order_by(table.c.received_at, table.c.id)
        .limit(PRUNE_AT_ONCE)
        .scalar_subquery()
    )
    conn = await session.connection()
    deleted = await conn.execute(sa.delete(table).where(table.c.id.in_(batch)))
    return int(deleted.rowcount)


class AnyTenant(enum.Enum):
    """The type of :data:`ANY_TENANT` (a sentinel no tenant id a platform sends can equal)."""

    ANY = "any"


#: ``account_of(tenant=ANY_TENANT)``: the link whatever tenant it was made in (Slack, whose
#: user ids already name their workspace).
ANY_TENANT: Final = AnyTenant.ANY


async def account_of(
    session: AsyncSession,
    *,
    platform: str,
    external_id: str,
    tenant: str | AnyTenant | None,
) -> PlatformAccount | None:
    """A person's account on a platform, by the platform's user id.

    Args:
        session: The open session.
        platform: ``slack`` or ``teams``.
        external_id: The platform's user id.
        tenant: The tenant the user is writing from (Teams; None when the activity names
            none), or ``ANY_TENANT`` (Slack, whose ids name their workspace; there is no
            default, so a Teams caller cannot forget it): a link made in another tenant is
            not theirs, so it is not returned. A
            link with no tenant recorded (made before tenants were) is returned, for the
            caller to adopt the tenant.
    """
    result = await session.exec(
        select(PlatformAccount).where(
            PlatformAccount.platform == platform, PlatformAccount.external_id == external_id
        )
    )
    account = result.first()
    if (
        account is not None
        and tenant is not ANY_TENANT
        and account.tenant is not None
        and account.tenant != tenant
    ):
        return None
    return account


async def link_account(
    session: AsyncSession,
    *,
    platform: str,
    external_id: str,
    person_id: int,
    now: datetime,
    dm_channel: str | None = None,
    tenant: str | None = None,
) -> PlatformAccount:
    """Create or refresh the link between a platform user and a directory person.

    Args:
        session: The open session.
        platform: ``slack`` or ``teams``.
        external_id: The platform's user id.
        person_id: The directory person.
        now: When the user was seen.
        dm_channel: The direct-message conversation with the bot, if known.
        tenant: The tenant the user was found in (Teams). A link made in another tenant is
            taken over: the person was just looked up in this tenant's roster, and the
            other tenant's user is looked up again when they next write.
    """
    account = await account_of(
        session, platform=platform, external_id=external_id, tenant=ANY_TENANT
    )
    if account is None:
        fresh = PlatformAccount(
            platform=platform,
            external_id=external_id,
            person_id=person_id,
            dm_channel=dm_channel,
            tenant=tenant,
            created_at=now,
            last_seen_at=now,
        )
        try:
            # Two first requests from one user may race to link them: the loser
            # refreshes the winner's link below.
            async with session.begin_nested():
                session.add(fresh)
                await session.flush()
            return fresh
        except IntegrityError:
            account = await account_of(
                session, platform=platform, external_id=external_id, tenant=ANY_TENANT
            )
            if account is None:
                raise
    account.person_id = person_id
    account.tenant = tenant
    account.last_seen_at = now
    if dm_channel:
        account.dm_channel = dm_channel
    session.add(account)
    await session.flush()
    return account


async def save_reference(
    session: AsyncSession,
    *,
    person_id: int,
    platform: str,
    reference: dict[str, Any],
    now: datetime,
) -> None:
    """Store (or refresh) how to reach a person proactively on a platform."""
    result = await session.exec(
        select(ConversationRef).where(
            ConversationRef.person_id == person_id, ConversationRef.platform == platform
        )
    )
    row = result.first()
    if row is None:
        row = ConversationRef(
            person_id=person_id, platform=platform, reference=reference, updated_at=now
        )
    elif row.reference == reference:
        return
    else:
        row.reference = reference
        row.updated_at = now
    session.add(row)


async def reference_of(
    session: AsyncSession, *, person_id: int, platform: str
) -> dict[str, Any] | None:
    """How to reach a person proactively on a platform, if they ever wrote to the bot there."""
    result = await session.exec(
        select(ConversationRef).where(
            ConversationRef.person_id == person_id, ConversationRef.platform == platform
        )
    )
    row = result.first()
    return dict(row.reference) if row else None


def among(
    conn: AsyncConnection, column: sa.ColumnElement[int], *, ids: Sequence[int]
) -> sa.ColumnElement[bool]:
    """``column IN ids``; on PostgreSQL with the ids as one array parameter.

    An expanding ``IN`` renders a placeholder per id, so each batch size is a new
    statement that asyncpg prepares again; ``= ANY(:ids)`` is one prepared statement for
    any count. SQLite keeps the expanding ``IN``: it plans that better than ``json_each``.
    """
    if conn.dialect.name == "postgresql":
        return column == sa.any_(sa.literal(list(ids), postgresql.ARRAY(sa.Integer)))
    return column.in_(ids)


Locked = TypeVar("Locked", bound=sa.Select[Any])


def locked(query: Locked, *, skip_locked: bool = False, of: sa.Table | None = None) -> Locked:
    """The query with its rows (of ``of`` only, if given) locked until the transaction ends.

    PostgreSQL locks the rows (``FOR UPDATE``; with ``skip_locked``, rows another
    transaction holds are left out instead of waited for). SQLite has no row locks and
    needs none: its transaction holds the only write lock from its start (BEGIN
    IMMEDIATE, see storage.database), so the query reads as it is.
    """
    return query.with_for_update(skip_locked=skip_locked, of=of)


async def with_programs(
    conn: AsyncConnection, rows: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Rows about pairings (``pairing_id``), each given its pairing's ``program``.

    Due items and feedback requests name their program so that scheduling and reports
    can tell programs apart; the pairing is the one source of it. A row that names its
    program already keeps it.
    """
    missing = {r["pairing_id"] for r in rows if not r.get("program")}
    found: dict[int, str] = {}
    if missing:
        table = Pairing.__table__  # type: ignore[attr-defined]
        result = await conn.execute(
            sa.select(table.c.id, table.c.program).where(table.c.id.in_(sorted(missing)))
        )
        found = {row.id: row.program for row in result}
    return [
        r if r.get("program") else {**r, "program": found.get(r["pairing_id"], "")} for r in rows
    ]
