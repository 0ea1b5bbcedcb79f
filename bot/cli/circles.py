"""``mentorbot match`` for a circles program: the circles a round forms, approved.

A circles program forms circles, never pairs: ``match --program P --dry-run`` lists them
(``--json``: ``circles``, ``optimality_gap``, ``left_over``) and nothing is saved or sent;
without ``--dry-run`` every circle of the round (or those ``--only`` names) is proposed to
its people, as ``match`` proposes pairs.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cli.app import numbers
from handlers import (
    CirclePlan,
    Program,
    approve_circles,
    circle_round_data,
    how_close,
    plan_circle_round,
    plural,
)


def circles_data(plan: CirclePlan, *, dry_run: bool) -> dict[str, Any]:
    """A circles plan as the JSON ``match --json`` prints (no one's email in a blind review:
    see :func:`blind_data`)."""
    emails = {m.person_id: m.email for c in plan.circles for m in c.members}
    return {
        "program": plan.program.id,
        "problem": plan.too_small,
        "mentees_waiting": plan.mentees,
        "facilitators_with_room": plan.facilitators,
        "members_placed": plan.placed,
        "circles": [
            {
                "number": number,
                "facilitator": circle.facilitator.email,
                "members": [m.email for m in circle.members],
                "score": round(circle.score, 4),
                "reasons": list(circle.reasons),
                "member_reasons": {
                    emails[person_id]: list(reasons)
                    for person_id, reasons in circle.member_reasons.items()
                },
            }
            for number, circle in enumerate(plan.circles, start=1)
        ],
        "optimality_gap": round(plan.optimality_gap, 4),
        "objective": round(plan.objective, 4),
        "bound": round(plan.bound, 4),
        "left_over": [],
        "dry_run": dry_run,
        "sent": 0,
    }


async def match_circles(
    args: argparse.Namespace,
    *,
    session: AsyncSession,
    program: Program,
    lead_id: int | None,
    reader_zone: str | None,
    now: datetime,
) -> int:
    """Print the circles a round of this circles program forms, and propose them unless
    ``--dry-run``. ``reader_zone``: the ``--as`` lead's time zone, for a blind review's
    profiles (None: zones read as their offset from UTC)."""
    plan = await plan_circle_round(session, program, now=now)
    entries = circle_round_data(program, plan, reader_zone=reader_zone, now=now)
    blind = program.matching.blind_review
    chosen = numbers(args.only, len(plan.circles)) if args.only else list(range(len(plan.circles)))
    result = None
    if not args.dry_run:
        result = await approve_circles(
            session,
            program=program,
            lead_id=lead_id,
            actor=args.as_email.strip().lower() if args.as_email else "cli",
            batch=entries["batch"],
            approved=[entries["circles"][i] for i in chosen],
            left_over=entries["left_over"],
            held=[e for i, e in enumerate(entries["circles"]) if i not in set(chosen)],
            now=now,
        )
    data = circles_data(plan, dry_run=bool(args.dry_run))
    waiting = {p.person_id: p for p in plan.waiting}
    data["left_over"] = [
        {"mentee": waiting[person_id].email, "why": why}
        for person_id, why in plan.left_over.items()
        if person_id in waiting
    ]
    if result is not None:
        data["sent"] = len(result.sent)
        data["skipped"] = result.skipped
    if blind:
        data = blind_data(data, entries)
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    if plan.too_small:
        print(plan.too_small)
    if plan.circles:
        print(
            f"{plural(len(plan.circles), 'circle')} for "
            f"{plural(plan.mentees, 'waiting member')}, "
            f"{how_close(plan.optimality_gap)}:"
        )
    for number, circle in enumerate(plan.circles, start=1):
        if blind:
            print(f"  {entries['circles'][number - 1]['line']}")
            continue
        names = ", ".join(m.name for m in circle.members)
        print(f"  {number}. {circle.facilitator.name} with {names} (fit {circle.score:.2f})")
        for reason in circle.reasons:
            print(f"       {reason}")
    if plan.left_over and plan.circles:
        print(f"{len(plan.left_over)} left waiting:")
        # As the chat review names them: by name, or behind a profile in a blind review.
        for left in entries["left_over"]:
            print(f"  {left['shown']}: {left['why']}")
    if result is None:
        print("Dry run: nothing was saved or sent.")
        return 0
    print(f"Sent {plural(len(result.sent), 'circle proposal')} to their facilitators and members.")
    for reason in result.skipped:
        print(f"  not sent: {reason}")
    return 0


def blind_data(data: dict[str, Any], entries: dict[str, Any]) -> dict[str, Any]:
    """The JSON of a blind review (``matching.blind_review``): each circle's label and line
    (profiles, no names) in place of its people's emails; the members left over, only why."""
    circles = [
        {
            "number": circle["number"],
            "label": entry["label"],
            "line": entry["line"],
            "score": circle["score"],
            "size": len(circle["members"]),
        }
        for circle, entry in zip(data["circles"], entries["circles"], strict=True)
    ]
    left_over = [{"why": w["why"]} for w in data["left_over"]]
    return {**data, "circles": circles, "left_over": left_over}
