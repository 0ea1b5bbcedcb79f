"""A program lead's commands: matching rounds, pairing by hand, reports, the audit log."""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.config import (
    Environment,
)
from handlers import (
    NotALead,
    Program,
    Programs,
    ProgramType,
    plural,
)

if TYPE_CHECKING:
    from handlers import LeadResult

from bot.cli.app import CliError, numbers, open_app


async def report(args: argparse.Namespace, env: Environment) -> int:
    from handlers import CATALOGUE, as_csv, as_json, as_text, run_report, stored_program
    from storage.queries import person_by_email

    if args.kind not in CATALOGUE.kinds:
        known = ", ".join(CATALOGUE.names())
        raise CliError(f"there is no report {args.kind!r}; available: {known}")
    async with open_app(env) as app:
        actor = args.as_email.strip().lower()
        # Someone who leads nothing still reaches run_report, which audits the refusal.
        led = app.programs.led_by(actor)
        async with app.database.session() as session:
            archived = (
                await stored_program(session, app.programs, args.program.strip().lower())
                if args.program
                else None
            )
        scope: Program | Programs
        if archived is not None:
            # In the file or archived (rows only): run_report refuses one they do not lead.
            scope = archived
        elif args.kind == "programs" and not args.program:
            scope = app.programs
        else:
            scope = (
                app.led_program(
                    args.program, lead=actor if led and not args.program else None, verb="report"
                )
                if args.program or led
                else app.programs.first
            )
        program = scope if isinstance(scope, Program) else None
        async with app.database.session() as session:
            # The moments a report shows read on the lead's own clock (unknown: the
            # program's, named).
            reader = await person_by_email(session, actor)
            reader_zone = reader.timezone if reader is not None else None
            try:
                report = await run_report(
                    session,
                    scope,
                    actor=actor,
                    kind=args.kind,
                    now=app.engine.clock.now(),
                    channel="cli",
                    output=args.format,
                    reader_zone=reader_zone,
                )
            except NotALead:
                report = None  # the attempt is audited: the transaction still commits
        if report is None:
            raise CliError(
                f"{args.as_email} is not a program lead"
                + (f" of {program.name}" if program is not None else "")
                + "; reports are for its leads and the global leads in app.yaml"
            )
    rendered = {"table": as_text, "csv": as_csv, "json": as_json}[args.format](report)
    print(rendered, end="" if rendered.endswith("\n") else "\n")
    return 0


async def programs(args: argparse.Namespace, env: Environment) -> int:
    from handlers import standings

    async with open_app(env) as app, app.database.session() as session:
        listed = await standings(session, app.programs, now=app.engine.clock.now())
    if args.json:
        print(json.dumps([program.as_dict() for program in listed], indent=2))
        return 0
    for program in listed:
        people = ", ".join(plural(n, role) for role, n in program.participants.items())
        print(
            f"{program.id}  {program.name}  ({program.type.replace('_', '-')}, {program.state}): "
            f"{people or 'nobody enrolled'}; {plural(program.active_pairs, 'active pair')}, "
            f"{program.waiting} waiting"
        )
    return 0


async def audit(args: argparse.Namespace, env: Environment) -> int:
    from handlers import entries

    since = None
    if args.since:
        try:
            since = datetime.fromisoformat(args.since)
        except ValueError:
            raise CliError(f"--since {args.since!r} is not a date; use YYYY-MM-DD") from None
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
    async with open_app(env) as app, app.database.session() as session:
        found = await entries(session, since=since)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "at": e.at.isoformat(),
                        "actor": e.actor,
                        "action": e.action,
                        "target": e.target,
                        "allowed": e.allowed,
                        "detail": e.detail,
                    }
                    for e in found
                ],
                indent=2,
            )
        )
        return 0
    for e in found:
        verdict = "" if e.allowed else "  (refused)"
        target = f" {e.target}" if e.target else ""
        print(f"{e.at:%Y-%m-%d %H:%M:%S} UTC  {e.actor}  {e.action}{target}{verdict}")
    if not found:
        print("no audit entries" + (f" since {args.since}" if args.since else ""))
    return 0


async def match(args: argparse.Namespace, env: Environment) -> int:
    from handlers import (
        approve,
        find_or_create_person,
        plan_round,
        remember_round,
        round_data,
        waitlist_positions,
    )

    async with open_app(env) as app, app.database.session() as session:
        lead_id, reader_zone = None, None
        now = app.engine.clock.now()
        email = args.as_email.strip().lower() if args.as_email else None
        program = app.led_program(args.program, lead=email, verb="match")
        if email is not None:
            lead, _ = await find_or_create_person(session, email=email, now=now)
            lead_id, reader_zone = lead.id, lead.timezone or app.programs.default_timezone
        if program.type is ProgramType.CIRCLES:
            from bot.cli.circles import match_circles

            return await match_circles(
                args,
                session=session,
                program=program,
                lead_id=lead_id,
                reader_zone=reader_zone,
                now=now,
            )
        plan = await plan_round(session, program, now=now)
        data = round_data(program, plan, reader_zone=reader_zone, now=now)
        entries = data["proposals"]
        chosen = numbers(args.only, len(entries)) if args.only else list(range(len(entries)))
        positions = await waitlist_positions(session, program)
        result = None
        if not args.dry_run and not entries:
            await remember_round(session, program, plan=plan, now=now)
        if not args.dry_run and entries:
            result = await approve(
                session,
                program=program,
                lead_id=lead_id,
                actor=args.as_email.strip().lower() if args.as_email else "cli",
                batch=data["batch"],
                approved=[entries[i] for i in chosen],
                waiting=data["waiting"],
                held=[e["mentee"] for i, e in enumerate(entries) if i not in set(chosen)],
                now=now,
            )
    blind = program.matching.blind_review
    if args.json:
        report = {
            "problem": plan.problem,
            "mentees_waiting": plan.mentees,
            "mentors_with_free_places": plan.mentors,
            "proposals": [
                {
                    "number": n,
                    "label": e["label"],
                    **(
                        {}
                        if blind
                        else {
                            "mentee": p.mentee.email,
                            "mentor": p.mentor.email,
                        }
                    ),
                    "score": e["score"],
                    "weak": e["weak"],
                    "reasons": [r["lead"] for r in e["reasons"]],
                }
                for n, (e, p) in enumerate(zip(entries, plan.proposals, strict=True), start=1)
            ],
            "waiting": [
                {
                    **({} if blind else {"mentee": w.mentee.email}),
                    "why": w.why,
                    "position": positions.get(w.mentee.person_id),
                }
                for w in plan.waiting
            ],
            "dry_run": bool(args.dry_run),
            "sent": len(result.sent) if result else 0,
            "skipped": result.skipped if result else [],
        }
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 0
    if plan.problem:
        print(plan.problem)
        return 0
    print(f"{plural(len(entries), 'proposal')} for {plural(plan.mentees, 'waiting mentee')}:")
    for entry in entries:
        print(f"  {entry['line']}")
    if plan.waiting:
        print(f"{len(plan.waiting)} left on the waitlist:")
        # As the chat review names them: by name, or behind a profile in a blind review.
        for waiting in data["waiting"]:
            place = positions.get(waiting["mentee"])
            print(f"  #{place} {waiting['shown']}: {waiting['why']}")
    if args.dry_run:
        print("Dry run: nothing was saved or sent.")
    elif result is not None:
        print(f"Sent {plural(len(result.sent), 'proposal')} to mentors.")
        for reason in result.skipped:
            print(f"  not sent: {reason}")
    return 0


async def pair(args: argparse.Namespace, env: Environment) -> int:
    from handlers import pair_by_hand

    return await _by_hand(args, env, "pair", pair_by_hand)


async def unexclude(args: argparse.Namespace, env: Environment) -> int:
    from handlers import lift_exclusion

    return await _by_hand(args, env, "unexclude", lift_exclusion)


async def _by_hand(
    args: argparse.Namespace,
    env: Environment,
    action: str,
    act: Callable[..., Awaitable[LeadResult]],
) -> int:
    """``pair`` and ``unexclude``: a program lead's action on one mentee and one mentor."""
    from handlers import find_or_create_person, one_person
    from storage import Role

    email = args.as_email.strip().lower()
    async with open_app(env) as app:
        now = app.engine.clock.now()
        program = await app.lead_or_refuse(
            args.program, lead=email, action=action, target=args.mentee
        )
        async with app.database.session() as session:
            mentee = await one_person(session, program, typed=args.mentee, role=Role.MENTEE)
            mentor = await one_person(session, program, typed=args.mentor, role=Role.MENTOR)
            if isinstance(mentee, str):
                raise CliError(mentee)
            if isinstance(mentor, str):
                raise CliError(mentor)
            lead, _ = await find_or_create_person(session, email=email, now=now)
            result = await act(session, program, mentee=mentee, mentor=mentor, lead=lead, now=now)
    if not result.done:
        raise CliError(result.as_line())
    print(result.as_line())
    return 0
