"""Writing the summaries of session notes that are due, with the model called outside any
transaction.

A session logged with notes, by a pair who both agreed, waits with
``summary_status='pending'`` and ``summary_next_at`` set. A pass of :func:`summarize_due`:

1. drops the pending summaries whose pair no longer both agree (or that have no notes),
   without reading their notes;
2. claims a batch of due ones in a short committed transaction, by moving their
   ``summary_next_at`` to a lease of its own (scheduler.claims, with :data:`SUMMARIES`:
   replicas claim disjoint batches);
3. asks the model for each, with a timeout, holding no transaction and no connection, a
   few at a time;
4. stores each result in its own short transaction, only if the claim is still its own
   (status pending, ``summary_next_at`` still its lease) and both still agree: the summary
   and status ``done``, with a message to each side of the pair under a unique outbox key;
   or, on failure, one more attempt, the next try after an exponential backoff (never
   sooner than a 429's Retry-After) and a short reason of our own wording. After
   ``max_attempts`` the summary is ``failed`` and the pair is told nothing was lost.

So the session log itself is never at risk (it was saved when it was logged), a slow model
delays only its own summary, a pass that dies after claiming leaves a lease that runs out
(the next pass takes the summary), and two passes never send a summary twice. Notes,
summaries and the model's answers are never logged; errors are logged by class name only,
since a database error's text carries its parameters.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import (
    Owner,
    Program,
    Programs,
    Reply,
    Summarizer,
    Summary,
    SummaryContext,
    SummaryError,
    SummaryUnavailable,
    both_sides_notes,
    enqueue,
    gave_up_reply,
    redact,
    summary_reply,
)
from scheduler import claims
from storage import Database, SummaryStatus
from storage.queries import locked
from storage.tables import PAIRING, PERSON, SESSION_LOG

log = logging.getLogger(__name__)

#: Summaries claimed by one pass.
BATCH = 8
#: Model calls in flight at once.
CONCURRENCY = 4
#: How long the model has to answer one summary, in seconds.
TIMEOUT = 60.0
#: How long a claim is a pass's own; longer than the calls of a whole batch take.
LEASE = timedelta(minutes=10)
#: Tries before a summary is given up on: about four hours of backoff in all.
MAX_ATTEMPTS = 8
FIRST_BACKOFF = timedelta(minutes=2)
MAX_BACKOFF = timedelta(hours=6)
#: The longest Retry-After honoured; a server asking for more is asked again then.
MAX_RETRY_AFTER = timedelta(days=1)

#: A pending summary's claim moves its next try (``summary_next_at``) to the claim's lease,
#: so a claim whose lease ran out is simply due again.
SUMMARIES = claims.Leases(
    table=SESSION_LOG,
    lease=SESSION_LOG.c.summary_next_at,
    held=SESSION_LOG.c.summary_status == SummaryStatus.PENDING.value,
    claimable=lambda now: (_due(now),),
    order=(SESSION_LOG.c.summary_next_at, SESSION_LOG.c.id),
    marks={},
)


@dataclass
class SummaryReport:
    """What one pass did.

    Attributes:
        written: Summaries stored and queued for both sides.
        retried: Failed attempts that will be tried again later.
        failed: Summaries given up on (the pair was told nothing was lost).
        dropped: Pending summaries no longer wanted (consent withdrawn, no notes).
        superseded: Results thrown away because another pass took the claim over.
        errors: Results that could not be stored; the lease hands them to a later pass.
    """

    written: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0
    superseded: int = 0
    errors: int = 0

    @property
    def total(self) -> int:
        """How many summaries the pass changed."""
        return self.written + self.retried + self.failed + self.dropped

    def as_dict(self) -> dict[str, int]:
        """The counts, for logs."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class _Session:
    """A logged session whose notes are to be summarised."""

    id: int
    pairing_id: int
    held_on: date
    minutes: int
    topics: tuple[str, ...]
    notes: str
    attempts: int
    #: Both sides logged the session: its summary goes out under keys of its own, so one
    #: written before the second side's notes came does not stop this one.
    both_sides: bool = False


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """How long to wait after the ``attempts``-th failed try.

    Doubles from :data:`FIRST_BACKOFF` up to :data:`MAX_BACKOFF`; never shorter than the
    server's Retry-After (up to :data:`MAX_RETRY_AFTER`).
    """
    delay = min(FIRST_BACKOFF * (1 << min(max(attempts - 1, 0), 16)), MAX_BACKOFF)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(timedelta(seconds=retry_after), MAX_RETRY_AFTER))
    return delay


async def summarize_due(
    database: Database,
    programs: Programs,
    *,
    summarizer: Summarizer,
    now: datetime,
    batch: int = BATCH,
    model_timeout: float = TIMEOUT,
    lease: timedelta = LEASE,
    concurrency: int = CONCURRENCY,
    max_attempts: int = MAX_ATTEMPTS,
) -> SummaryReport:
    """Write the summaries due at ``now``; safe to run again, and from several processes.

    Args:
        database: The database.
        programs: The programs (a pairing's, for delivery in each person's working hours).
        summarizer: The model.
        now: The instant of the pass.
        batch: Most summaries claimed by this pass.
        model_timeout: Seconds the model has for each summary.
        lease: How long the claim holds before another pass may take a summary over.
        concurrency: Model calls in flight at once.
        max_attempts: Tries before a summary is given up on.
    """
    report = SummaryReport()
    async with database.session() as session:
        report.dropped += await _drop_unwanted(session, now)
        claimed = await _claim(session, now, batch=batch, lease=lease)
    if not claimed:
        return report
    slots = asyncio.Semaphore(max(concurrency, 1))

    async def one(item: claims.Claimed[_Session]) -> None:
        async with slots:
            result = await _ask(summarizer, item.work, model_timeout)
        try:
            async with database.session() as session:
                await _store(session, programs, item, result, now, report, max_attempts)
        except Exception as exc:  # the lease runs out and a later pass tries again
            report.errors += 1
            log.warning(
                "summaries: the result for session %s could not be stored (%s); it will be "
                "tried again after the lease",
                item.work.id,
                type(exc).__name__,
            )

    await asyncio.gather(*(one(item) for item in claimed))
    return report


def _due(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        SESSION_LOG.c.summary_status == SummaryStatus.PENDING.value,
        SESSION_LOG.c.summary_next_at <= now,
    )


def _both_agree() -> sa.ColumnElement[bool]:
    return sa.and_(
        sa.func.coalesce(PAIRING.c.mentee_consent, sa.false()),
        sa.func.coalesce(PAIRING.c.mentor_consent, sa.false()),
    )


async def _drop_unwanted(session: AsyncSession, now: datetime) -> int:
    """Drop due pending summaries whose pair no longer both agree, or that have no notes."""
    conn = await session.connection()
    unwanted = sa.select(PAIRING.c.id).where(sa.not_(_both_agree()))
    result = await conn.execute(
        sa.update(SESSION_LOG)
        .where(
            _due(now),
            sa.or_(
                SESSION_LOG.c.pairing_id.in_(unwanted.scalar_subquery()),
                sa.and_(
                    sa.func.coalesce(SESSION_LOG.c.notes, "") == "",
                    sa.func.coalesce(SESSION_LOG.c.second_notes, "") == "",
                ),
            ),
        )
        .values(summary_status=None, summary_next_at=None, summary_error=None)
    )
    return int(result.rowcount or 0)


async def _claim(
    session: AsyncSession, now: datetime, *, batch: int, lease: timedelta
) -> list[claims.Claimed[_Session]]:
    """Claim up to ``batch`` due summaries by moving their next try to a lease of our own."""
    conn = await session.connection()
    lease_until = claims.lease_until(now, lease)
    rows = await claims.claim(
        conn,
        SUMMARIES,
        now=now,
        until=lease_until,
        batch=batch,
        returning=(
            SESSION_LOG.c.id,
            SESSION_LOG.c.pairing_id,
            SESSION_LOG.c.held_on,
            SESSION_LOG.c.minutes,
            SESSION_LOG.c.topics,
            SESSION_LOG.c.notes,
            SESSION_LOG.c.summary_attempts,
            SESSION_LOG.c.second_notes,
            SESSION_LOG.c.logged_by,
            SESSION_LOG.c.second_at,
        ),
    )
    claimed = sorted(rows, key=lambda r: r[0])
    if not claimed:
        return []
    mentees: dict[int, int] = dict(
        (
            await conn.execute(
                sa.select(PAIRING.c.id, PAIRING.c.mentee_id).where(
                    PAIRING.c.id.in_({row[1] for row in claimed})
                )
            )
        ).all()
    )
    items = []
    for row in claimed:
        log_id, pairing_id, held_on, minutes, topics, notes, attempts = row[:7]
        second_notes, logged_by, second_at = row[7:]
        if second_at is not None:
            # Each side's notes under their own heading; the first to log is either side.
            mentee_first = logged_by == mentees.get(pairing_id)
            notes = both_sides_notes(
                mentee=notes if mentee_first else second_notes,
                mentor=second_notes if mentee_first else notes,
            )
        session_log = _Session(
            id=log_id,
            pairing_id=pairing_id,
            held_on=held_on,
            minutes=minutes,
            topics=tuple(str(t) for t in topics or ()),
            notes=notes or "",
            attempts=attempts,
            both_sides=second_at is not None,
        )
        items.append(claims.Claimed(session_log, lease_until))
    return items


async def _ask(summarizer: Summarizer, item: _Session, seconds: float) -> Summary | SummaryError:
    """The model's summary of one session, or why there is none this time."""
    context = SummaryContext(held_on=item.held_on, minutes=item.minutes, topics=item.topics)
    try:
        async with asyncio.timeout(seconds):
            return await summarizer.summarize(redact(item.notes), context)
    except TimeoutError:
        return SummaryUnavailable(f"the model did not answer within {seconds:g} s")
    except SummaryError as exc:
        return exc
    except Exception as exc:  # a client bug must not stop the pass, nor put notes in a log
        return SummaryError(f"the summarizer failed ({type(exc).__name__})")


@dataclass(frozen=True)
class _Pair:
    mentee_id: int
    mentor_id: int
    mentee: str
    mentor: str
    agreed: bool
    program: str


async def _pair(session: AsyncSession, pairing_id: int) -> _Pair | None:
    """The pair and whether both still agree, locked until the transaction ends."""
    conn = await session.connection()
    mentee, mentor = PERSON.alias("mentee"), PERSON.alias("mentor")
    query = (
        sa.select(
            PAIRING.c.mentee_id,
            PAIRING.c.mentor_id,
            mentee.c.name,
            mentor.c.name,
            PAIRING.c.mentee_consent,
            PAIRING.c.mentor_consent,
            PAIRING.c.program,
        )
        .join(mentee, mentee.c.id == PAIRING.c.mentee_id)
        .join(mentor, mentor.c.id == PAIRING.c.mentor_id)
        .where(PAIRING.c.id == pairing_id)
    )
    # A "consent N no" in flight waits for this transaction, or is seen by it.
    row = (await conn.execute(locked(query, of=PAIRING))).first()
    if row is None:
        return None
    return _Pair(row[0], row[1], row[2], row[3], bool(row[4]) and bool(row[5]), row[6])


async def _store(
    session: AsyncSession,
    programs: Programs,
    claimed: claims.Claimed[_Session],
    result: Summary | SummaryError,
    now: datetime,
    report: SummaryReport,
    max_attempts: int,
) -> None:
    """Record one result, if the claim is still ours, and queue what the pair should read."""
    conn = await session.connection()
    item = claimed.work
    ours = sa.and_(SESSION_LOG.c.id == item.id, SUMMARIES.ours(claimed.lease_until))
    pair = await _pair(session, item.pairing_id)
    if pair is None or not pair.agreed:
        # Consent withdrawn while the model was writing: nothing is kept or sent.
        dropped = await conn.execute(
            sa.update(SESSION_LOG)
            .where(ours)
            .values(summary_status=None, summary_next_at=None, summary_error=None)
        )
        if dropped.rowcount:
            report.dropped += 1
        else:
            report.superseded += 1
        return
    values: dict[str, Any]
    if isinstance(result, Summary):
        values = {
            "summary": result.to_dict(),
            "summary_status": SummaryStatus.DONE.value,
            "summary_next_at": None,
            "summary_error": None,
        }
    else:
        attempts = item.attempts + 1
        reason = str(result)[:200]
        if attempts >= max_attempts:
            values = {
                "summary_status": SummaryStatus.FAILED.value,
                "summary_attempts": attempts,
                "summary_next_at": None,
                "summary_error": reason,
            }
        else:
            retry_after = result.retry_after if isinstance(result, SummaryUnavailable) else None
            values = {
                "summary_attempts": attempts,
                "summary_next_at": now + backoff(attempts, retry_after),
                "summary_error": reason,
            }
        log.warning(
            "summaries: no summary of session %s yet (attempt %s of %s): %s",
            item.id,
            attempts,
            max_attempts,
            reason,
        )
    stored = await conn.execute(sa.update(SESSION_LOG).where(ours).values(**values))
    if not stored.rowcount:
        report.superseded += 1
        return
    status = values.get("summary_status")
    if status is None:
        report.retried += 1
        return
    for person_id, reader in ((pair.mentee_id, Owner.MENTEE), (pair.mentor_id, Owner.MENTOR)):
        if isinstance(result, Summary):
            reply = summary_reply(
                result,
                session_id=item.id,
                held_on=item.held_on,
                reader=reader,
                mentee=pair.mentee,
                mentor=pair.mentor,
            )
            key = f"summary:{item.id}:{person_id}"
        else:
            reply = gave_up_reply(session_id=item.id, held_on=item.held_on)
            key = f"summary-failed:{item.id}:{person_id}"
        if item.both_sides:
            key += ":both-sides"
        await _tell(
            session,
            programs.of(pair.program),
            person_id,
            reply,
            key,
            now,
            pairing_id=item.pairing_id,
        )
    if isinstance(result, Summary):
        report.written += 1
    else:
        report.failed += 1


async def _tell(
    session: AsyncSession,
    program: Program,
    person_id: int,
    reply: Reply,
    key: str,
    now: datetime,
    *,
    pairing_id: int,
) -> None:
    # About the pairing: if it ends first (a side leaves or is erased), it is withdrawn.
    await enqueue(
        session,
        person_id=person_id,
        replies=[reply],
        dedupe_key=key,
        now=now,
        program=program,
        pairing_id=pairing_id,
    )
