"""``report cadence``: the share of pairs on cadence, sessions per pair per month."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.core.figures import Chart, Kind, Report, Table, checked_chart, month_label
from handlers.core.messages import noun, plural
from handlers.core.program import Program
from handlers.meetings.booking import booked_in_program
from handlers.reports.circles import (
    ACTIVE_CIRCLE,
    circle_rate,
    is_circles,
    monthly_circle_sessions,
)
from handlers.reports.queries import (
    ACTIVE,
    PAIRING,
    RATE_MONTHS,
    SESSION,
    fetch_tally,
    met_since,
    midnight,
    months_before,
    paused_side,
    program_today,
)
from handlers.reports.suppression import (
    count_cell,
    count_figure,
    counted_figure,
    is_small,
    number,
    percent,
    rate_figure,
    share_figure,
    small_groups_note,
)
from storage.tables import CIRCLE, CIRCLE_SESSION

#: The window of the sessions-per-pair distribution, in days.
RECENT_DAYS = 90
#: Full months the cadence report's monthly table and chart cover.
MONTHS = 6
#: The sessions-per-pair distribution's last bucket holds this many sessions or more.
TOP_BUCKET = 6


async def monthly_sessions(
    conn: AsyncConnection, program: Program, months: list[tuple[date, date]]
) -> tuple[list[int], list[int]]:
    """Sessions held in each month, and the pairs active at any time in it.

    Args:
        conn: The report's connection.
        program: Whose pairs.
        months: Each month as [start, end) days, oldest first (:func:`months_before`).
    """
    program_id = program.id
    first, last = months[0][0], months[-1][1]
    sessions_row = (
        await conn.execute(
            sa.select(
                *(
                    sa.func.count().filter(SESSION.c.held_on >= start, SESSION.c.held_on < end)
                    for start, end in months
                )
            )
            .select_from(SESSION.join(PAIRING, PAIRING.c.id == SESSION.c.pairing_id))
            .where(
                PAIRING.c.program == program_id,
                SESSION.c.held_on >= first,
                SESSION.c.held_on < last,
            )
        )
    ).one()
    pairs_row = (
        await conn.execute(
            sa.select(
                *(
                    sa.func.count().filter(
                        PAIRING.c.activated_at < midnight(end, program),
                        sa.or_(
                            PAIRING.c.closed_at.is_(None),
                            PAIRING.c.closed_at >= midnight(start, program),
                        ),
                    )
                    for start, end in months
                )
            ).where(
                PAIRING.c.program == program_id,
                PAIRING.c.activated_at.is_not(None),
                PAIRING.c.activated_at < midnight(last, program),
            )
        )
    ).one()
    held = [int(n or 0) for n in sessions_row]
    paired = [int(n or 0) for n in pairs_row]
    return held, paired


def headline_rate(held: list[int], paired: list[int], *, k: int) -> float | str | None:
    """Sessions per pair per month over a few months: their sessions over their pairs.

    None without a pair in them; "withheld" when one of them had fewer than ``k`` active
    pairs and sessions were held (the months' sessions over it, less the shown months'
    pairs, would give a hidden month's pairs away).
    """
    sessions, pairs = sum(held), sum(paired)
    if not pairs:
        return None
    if sessions and any(is_small(p, k) for p in paired):
        return "withheld"
    return round(sessions / pairs, 1)


async def cadence(session: AsyncSession, program: Program, *, now: datetime) -> Report:
    """The share of pairs on cadence, sessions per pair per month, and their distribution.

    For a circles program: its circles in place of pairs (:func:`_circles_cadence`).
    """
    conn = await session.connection()
    if is_circles(program):
        return await _circles_cadence(conn, program, now=now)
    program_id = program.id
    k = program.min_group_size
    today = program_today(program, now)
    every = program.cadence.checkin_every_days

    # One row per active pair, aggregated again below: never returned whole.
    pair = PAIRING.alias("pair")
    recent = (
        sa.select(sa.func.count())
        .where(
            SESSION.c.pairing_id == pair.c.id,
            SESSION.c.held_on > today - timedelta(days=RECENT_DAYS),
        )
        .scalar_subquery()
    )
    on_cadence = sa.or_(
        met_since(pair, today - timedelta(days=every)),
        pair.c.activated_at > now - timedelta(days=every),
    )
    per_pair = (
        sa.select(
            paused_side(pair, program_id).label("paused"),
            on_cadence.label("on_cadence"),
            recent.label("recent"),
        )
        .where(pair.c.program == program_id, pair.c.status == ACTIVE)
        .subquery()
    )
    totals = (
        await conn.execute(
            sa.select(
                sa.func.count(),
                sa.func.count().filter(per_pair.c.paused),
                sa.func.count().filter(~per_pair.c.paused, per_pair.c.on_cadence),
            ).select_from(per_pair)
        )
    ).one()
    active, paused, on = int(totals[0]), int(totals[1] or 0), int(totals[2] or 0)
    counted = active - paused
    bucket = sa.case((per_pair.c.recent >= TOP_BUCKET, TOP_BUCKET), else_=per_pair.c.recent)
    spread = await fetch_tally(
        conn,
        sa.select(bucket, sa.func.count())
        .select_from(per_pair)
        .where(~per_pair.c.paused)
        .group_by(bucket),
    )
    distribution = tuple(
        (
            f"{n} or more" if n == TOP_BUCKET else str(n),
            count_cell(spread.get(n, 0), k),
            share_figure(spread.get(n, 0), counted, k=k),
        )
        for n in range(TOP_BUCKET + 1)
    )

    months = months_before(today, MONTHS)
    held, paired = await monthly_sessions(conn, program, months)
    # A month without an active pair has no rate (a gap in the chart), not a rate of 0; nor
    # has a month of fewer than k (held over its rate would give their number away).
    rates = [rate_figure(s, p, k=k) for s, p in zip(held, paired, strict=True)]
    month_ids = tuple(f"{start:%Y-%m}" for start, _ in months)
    labels = tuple(month_label(month) for month in month_ids)
    monthly = tuple(
        (label, s, count_cell(p, k), rate)
        for label, s, p, rate in zip(labels, held, paired, rates, strict=True)
    )
    headline = headline_rate(held[-RATE_MONTHS:], paired[-RATE_MONTHS:], k=k)
    rate = (
        "–" if headline is None else f"{headline:.1f}" if isinstance(headline, float) else headline
    )
    share = share_figure(on, counted, k=k)
    booked = await booked_in_program(conn, program, statuses=[ACTIVE])
    meetings = sum(1 for found in booked.values() for o in found if o.start > now)
    ahead = sum(1 for found in booked.values() if any(o.start > now for o in found))
    ahead_share = share_figure(ahead, active, k=k)

    figures = (
        ("Active pairs", count_figure(active, k)),
        ("Paused (either side; not counted below)", count_figure(paused, k)),
        ("On cadence", f"{share or count_cell(on, k)} of {counted_figure(counted, k, 'pair')}"),
        (f"Sessions per pair per month (last {RATE_MONTHS} full months)", rate),
        ("Meetings booked from now on", count_figure(meetings, k)),
        (
            "With a booked next meeting",
            f"{ahead_share or count_cell(ahead, k)} of {counted_figure(active, k, 'pair')}",
        ),
    )
    tables = (
        Table(
            "Sessions per active pair, by month",
            ("month", "sessions", "active pairs", "sessions per pair"),
            monthly,
        ),
        Table(
            f"Sessions in the last {RECENT_DAYS} days, per active pair",
            ("sessions", "pairs", "share"),
            distribution,
        ),
    )
    chart, no_chart = checked_chart(
        Chart(
            "line",
            "Sessions per active pair, by month",
            labels,
            (("sessions per pair", tuple(rates)),),
            "sessions per pair",
            months=month_ids,
        ),
        all_zero=f"No chart of sessions by month: no session was logged in the last "
        f"{MONTHS} full months.",
        all_hidden=f"No chart of sessions by month: no month in the last {MONTHS} full months "
        f"had {k} active pairs or more to show a rate for."
        if any(paired)
        else f"No chart of sessions by month: no pair was active in the last {MONTHS} full months.",
    )
    notes = (
        *((no_chart,) if no_chart else ()),
        f"On cadence: an active pair that held a session in the last {plural(every, 'day')} "
        f"(the check-in interval), or became active less than {plural(every, 'day')} ago. "
        "Pairs with a "
        "paused side are left out of the share and of the distribution.",
        "Sessions per pair per month: sessions held in a month over the pairs active at any "
        "time in it (a pair active for part of a month counts as one).",
        "Meetings booked: the meetings of active pairs in their calendars from now on (each "
        "meeting of a series counts); with a booked next meeting: the active pairs with at "
        "least one of them.",
        *(
            (
                f"Sessions per pair is not shown for a month of fewer than {k} active pairs "
                "(with the sessions beside it, it would give their number away), and the "
                f"figure over the last {RATE_MONTHS} full months is withheld when one of them "
                "is such a month.",
            )
            if rate == "withheld"
            or any(r is None and p for r, p in zip(rates, paired, strict=True))
            else ()
        ),
        small_groups_note(k),
    )
    return Report("cadence", "Cadence: are pairs meeting?", figures, tables, chart, notes)


async def _circles_cadence(conn: AsyncConnection, program: Program, *, now: datetime) -> Report:
    """Are circles meeting: the share with a session in the last check-in window, and
    sessions per circle per month (a table and a chart).

    Pairs' figures (pairs on cadence, paused sides, the per-pair distribution) mean nothing
    here and are left out rather than shown as 0. Circles are counted as they are.
    """
    k = program.min_group_size
    today = program_today(program, now)
    every = program.cadence.checkin_every_days
    met = sa.exists().where(
        CIRCLE_SESSION.c.circle_id == CIRCLE.c.id,
        CIRCLE_SESSION.c.held_on >= today - timedelta(days=every),
    )
    on_cadence = sa.or_(met, CIRCLE.c.activated_at > now - timedelta(days=every))
    totals = (
        await conn.execute(
            sa.select(sa.func.count(), sa.func.count().filter(on_cadence)).where(
                CIRCLE.c.program == program.id, CIRCLE.c.status == ACTIVE_CIRCLE
            )
        )
    ).one()
    active, on = int(totals[0]), int(totals[1] or 0)
    months = months_before(today, MONTHS)
    held, circles = await monthly_circle_sessions(conn, program, months)
    rates = [circle_rate(s, c) for s, c in zip(held, circles, strict=True)]
    month_ids = tuple(f"{start:%Y-%m}" for start, _ in months)
    labels = tuple(month_label(month) for month in month_ids)
    headline = circle_rate(sum(held[-RATE_MONTHS:]), sum(circles[-RATE_MONTHS:]))
    figures = (
        ("Active circles", number(active)),
        (
            f"With a session in the last {plural(every, 'day')}",
            f"{percent(on, active)}% of {number(active)} {noun(active, 'circle')}"
            if active
            else "–",
        ),
        (
            f"Sessions per circle per month (last {RATE_MONTHS} full months)",
            "–" if headline is None else f"{headline:.1f}",
        ),
    )
    chart, no_chart = checked_chart(
        Chart(
            "line",
            "Sessions per active circle, by month",
            labels,
            (("sessions per circle", tuple(rates)),),
            "sessions per circle",
            months=month_ids,
        ),
        all_zero=f"No chart of sessions by month: no circle session was logged in the last "
        f"{MONTHS} full months.",
        all_hidden=f"No chart of sessions by month: no circle was active in the last {MONTHS} "
        "full months.",
    )
    notes = (
        *((no_chart,) if no_chart else ()),
        f"With a session: an active circle that held a session in the last "
        f"{plural(every, 'day')} (the check-in interval), or became active less than "
        f"{plural(every, 'day')} ago.",
        "Sessions per circle per month: circle sessions held in a month over the circles "
        "active at any time in it (a circle active for part of a month counts as one).",
        "Circles are counted as they are: a circle is a group, not a person.",
        small_groups_note(k),
    )
    table = Table(
        "Sessions per active circle, by month",
        ("month", "sessions", "active circles", "sessions per circle"),
        tuple(zip(labels, held, circles, rates, strict=True)),
    )
    return Report("cadence", "Cadence: are circles meeting?", figures, (table,), chart, notes)


KIND = Kind("cadence", "share of pairs on cadence, sessions per pair per month", cadence)
