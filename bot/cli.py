"""The ``mentorbot`` command line.

Every command has ``--help``. A user mistake (bad file, unknown person, unreachable
database) is one clear message on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import (
    INSTANT_EXAMPLES,
    Environment,
    ProgramFileError,
    SettingsError,
    check_program_file,
    load_programs,
    parse_instant,
)
from bot.demo import DEMO_EMPLOYEE, load_demo
from bot.logs import LogFormatError, configure_logging
from bot.shell import run_shell
from handlers import (
    CsvFormatError,
    Engine,
    NotALead,
    NotASelection,
    Program,
    Programs,
    build_engine,
    export_person,
    forget_person,
    import_people,
    is_email,
    parse_selection,
)
from storage import Database, StorageError

if TYPE_CHECKING:
    from bot.summarizer import OpenAISummarizer
    from handlers import LeadResult

log = logging.getLogger("mentorbot")


class CliError(Exception):
    """A mistake on the command line; the message is what the operator reads."""


@dataclass
class App:
    """What most commands need: the programs, the database and the engine."""

    env: Environment
    programs: Programs
    database: Database
    engine: Engine

    def led_program(self, named: str | None, *, lead: str | None, verb: str) -> Program:
        """The program ``--program`` names, or the only one ``lead`` leads (or the file has).

        Raises:
            CliError: no such program, one the lead does not lead, or several to pick from.
        """
        known = ", ".join(p.id for p in self.programs)
        if named is not None:
            program: Program | None = self.programs.get(named.strip().lower())
            if program is None:
                raise CliError(f"there is no program {named!r}; programs: {known}")
            if lead is not None and not program.is_lead(lead):
                raise CliError(
                    f"{lead} is not a lead of {program.id}; {verb} is for the program's "
                    "leads (leads: in its entry of app.yaml) and the global leads"
                )
            return program
        candidates = list(self.programs) if lead is None else self.programs.led_by(lead)
        if len(candidates) == 1:
            return candidates[0]
        if not candidates and lead is not None:
            raise CliError(
                f"{lead} is not a program lead; {verb} is for the leads listed in app.yaml"
            )
        which = ", ".join(p.id for p in candidates)
        raise CliError(f"several programs; add --program with one of: {which}")


@asynccontextmanager
async def open_app(env: Environment) -> AsyncIterator[App]:
    """Load the program file and open a database whose schema is current."""
    programs = load_programs(env.config_path)
    database = Database(env.database_url)
    try:
        await database.ensure_schema()
        engine = build_engine(
            programs=programs,
            database=database,
            clock=env.clock(),
            summaries=bool(env.openai_api_key),
        )
        yield App(env, programs, database, engine)
    finally:
        await database.dispose()


def _summarizer(env: Environment) -> OpenAISummarizer | None:
    """The model for summaries of session notes, or None when OPENAI_API_KEY is unset.

    ``openai`` takes most of a second to import, so it is imported only when it is used.
    """
    if not env.openai_api_key:
        return None
    from bot.summarizer import summarizer_from_env

    return summarizer_from_env(env)


async def _db_upgrade(args: argparse.Namespace, env: Environment) -> int:
    database = Database(env.database_url)
    try:
        before, after = await database.upgrade()
    finally:
        await database.dispose()
    if before == after:
        print(f"database already up to date (revision {after})")
    else:
        print(f"database upgraded from {before or 'empty'} to revision {after}")
    return 0


async def _check_config(args: argparse.Namespace, env: Environment) -> int:
    _, notes = check_program_file(args.file or env.config_path)
    for note in notes:
        print(f"note: {note}")
    print("ok")
    return 0


async def _people_import(args: argparse.Namespace, env: Environment) -> int:
    path = Path(args.file)
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8-sig")
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise CliError(f"{path}: not UTF-8 text; save the CSV as UTF-8 and try again") from None
    except OSError as exc:
        raise CliError(f"{path}: cannot read the file ({exc.strerror})") from None
    async with open_app(env) as app, app.database.session() as session:
        try:
            report = await import_people(
                session, text, now=app.engine.clock.now(), skip_invalid=args.skip_invalid
            )
        except CsvFormatError as exc:
            raise CliError(f"{path}: {exc}") from None
    for rejection in report.rejected:
        who = f" ({rejection.email})" if rejection.email else ""
        print(f"{path}:{rejection.line}{who}: {rejection.reason}", file=sys.stderr)
    if not report.applied:
        n = len(report.rejected)
        print(report.summary(), file=sys.stderr)
        print(
            f"Nothing was imported because {n} row{'s are' if n != 1 else ' is'} invalid. Fix "
            f"{'them' if n != 1 else 'it'}, or re-run with --skip-invalid to import the rest.",
            file=sys.stderr,
        )
        return 1
    print(report.summary())
    return 0


async def _shell(args: argparse.Namespace, env: Environment) -> int:
    email = args.as_email.strip().lower()
    if not is_email(email):
        raise CliError(f"{args.as_email!r} is not an email address; use --as name@company.com")
    async with open_app(env) as app:
        await run_shell(
            engine=app.engine,
            database=app.database,
            email=email,
            stdin=sys.stdin,
            stdout=sys.stdout,
        )
    return 0


async def _privacy_export(args: argparse.Namespace, env: Environment) -> int:
    async with open_app(env) as app, app.database.session() as session:
        document = await export_person(session, args.email)
    if document is None:
        raise CliError(f"no one with the email {args.email} is in the directory")
    print(json.dumps(document, indent=2, ensure_ascii=False))
    return 0


async def _privacy_forget(args: argparse.Namespace, env: Environment) -> int:
    async with open_app(env) as app:
        try:
            erasure = await forget_person(
                app.database,
                app.programs,
                email=args.email,
                now=app.engine.clock.now(),
                requested_by=args.as_email,
            )
        except NotALead as exc:
            raise CliError(f"{exc}; only a program lead can ask for an erasure") from None
    if erasure is None:
        raise CliError(f"no one with the email {args.email} is in the directory")
    print(
        f"erased {args.email}: now {erasure.reference} in the audit log; "
        f"{erasure.pairings_ended} open pairing(s) ended and the other side told"
    )
    if not erasure.compacted:
        print(
            "note: another process held the SQLite log open; its old pages are cleared "
            "when it next checkpoints"
        )
    return 0


async def _report(args: argparse.Namespace, env: Environment) -> int:
    from handlers import CATALOGUE, as_csv, as_json, as_text, run_report, stored_program

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
            try:
                report = await run_report(
                    session,
                    scope,
                    actor=actor,
                    kind=args.kind,
                    now=app.engine.clock.now(),
                    channel="cli",
                    output=args.format,
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


async def _programs(args: argparse.Namespace, env: Environment) -> int:
    from handlers import standings

    async with open_app(env) as app, app.database.session() as session:
        listed = await standings(session, app.programs, now=app.engine.clock.now())
    if args.json:
        print(json.dumps([program.as_dict() for program in listed], indent=2))
        return 0
    for program in listed:
        people = ", ".join(f"{n} {role}s" for role, n in program.participants.items())
        print(
            f"{program.id}  {program.name}  ({program.type.replace('_', '-')}, {program.state}): "
            f"{people or 'nobody enrolled'}; {program.active_pairs} active pairs, "
            f"{program.waiting} waiting"
        )
    return 0


async def _audit(args: argparse.Namespace, env: Environment) -> int:
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


async def _serve(args: argparse.Namespace, env: Environment) -> int:
    # Imported here: slack_bolt and aiohttp's server take a while to import, and the
    # shell and the other commands should start at once.
    from bot.runtime import build_runtime
    from bot.server import StartupError, is_loopback, serve_forever
    from bot.slack.settings import SlackSettings
    from bot.teams.settings import TeamsSettings

    if env.fixed_now is not None and not args.allow_fake_clock:
        # A live bot on a stopped clock would never send a check-in or lapse a proposal.
        raise CliError(
            f"MENTORBOT_NOW is set ({env.fixed_now.isoformat()}), and serving on a clock that "
            "stands still is for demos only; unset it, or pass --allow-fake-clock"
        )
    problem = env.slack_problem() or env.teams_problem(args.host, loopback=is_loopback(args.host))
    if problem:
        raise CliError(problem)
    teams = None
    if env.teams_on:
        teams = TeamsSettings(
            app_id=env.teams_app_id,
            app_password=env.teams_app_password,
            tenant_id=env.teams_tenant_id,
            app_type=env.teams_app_type,
            allow_unauthenticated=env.teams_allow_unauthenticated and not env.teams_app_id,
            openid_metadata_url=env.teams_openid_metadata_url,
            tenants=env.teams_tenants,
            any_tenant=env.teams_any_tenant,
        )
    slack = None
    if env.slack_bot_token and env.slack_signing_secret:
        slack = SlackSettings(
            bot_token=env.slack_bot_token,
            signing_secret=env.slack_signing_secret,
            app_token=env.slack_app_token,
            api_url=env.slack_api_url,
        )
    programs = load_programs(env.config_path)
    database = Database(env.database_url)
    summarizer = _summarizer(env)
    try:
        await database.ensure_schema()
        runtime = build_runtime(
            programs=programs,
            database=database,
            slack=slack,
            teams=teams,
            clock=env.clock(),
            summarizer=summarizer,
        )
        try:
            await serve_forever(
                runtime,
                host=args.host,
                port=args.port,
                tick_seconds=env.tick_seconds,
                app_token=env.slack_app_token,
                program_path=Path(env.config_path),
            )
        except StartupError as exc:
            raise CliError(str(exc)) from None
        except OSError as exc:
            raise CliError(
                f"cannot listen on {args.host}:{args.port} ({exc.strerror}); "
                "is another mentorbot running? Pass --port to use another port."
            ) from None
    finally:
        if summarizer is not None:
            await summarizer.aclose()
        await database.dispose()
    return 0


async def _slack_manifest(args: argparse.Namespace, env: Environment) -> int:
    import yaml

    from bot.slack.manifest import ManifestError, slack_manifest

    try:
        manifest = slack_manifest(url=args.url, name=args.name, socket_mode=args.socket_mode)
    except ManifestError as exc:
        raise CliError(str(exc)) from None
    print(yaml.safe_dump(manifest, sort_keys=False), end="")
    return 0


async def _teams_manifest(args: argparse.Namespace, env: Environment) -> int:
    from bot.teams.manifest import ManifestError, app_package, teams_manifest

    bot_id = args.bot_id or env.teams_app_id
    if not bot_id:
        raise CliError("give --bot-id (the Azure Bot's Microsoft App ID) or set MicrosoftAppId")
    programs = load_programs(env.config_path)
    engine = build_engine(programs=programs, database=Database(env.database_url))
    # What Teams suggests in the compose box (at most 10); the words behind buttons
    # (accept, snooze 12, ...) are left out.
    commands = [
        (c.name, c.summary)
        for c in engine.commands
        if not c.lead_only and c.name != "hi" and c.mid_flow is None and c.listed
    ]
    try:
        manifest = teams_manifest(
            bot_id=bot_id,
            name=args.name,
            program_name=programs.first.name if not programs.several else "mentoring programs",
            commands=commands,
            website=args.website,
        )
    except ManifestError as exc:
        raise CliError(str(exc)) from None
    out = Path(args.out)
    if out.suffix != ".zip":
        raise CliError(f"{out}: the app package is a .zip file; name it e.g. mentorbot.zip")
    try:
        await asyncio.to_thread(out.write_bytes, app_package(manifest))
    except OSError as exc:
        raise CliError(f"{out}: cannot write the package ({exc.strerror})") from None
    print(f"wrote {out}: upload it in Teams (Apps → Manage your apps → Upload an app)")
    return 0


async def _outbox(args: argparse.Namespace, env: Environment) -> int:
    from handlers import count_by_status, failed_messages, unreachable_people

    async with open_app(env) as app, app.database.session() as session:
        counts = await count_by_status(session)
        unreachable = await unreachable_people(session)
        failed = await failed_messages(session)
    print("  ".join(f"{status} {count}" for status, count in counts.items()))
    if failed:
        print("\nMessages given up on (newest first):")
        for name, email, reason, _, queued in failed:
            print(f"  {name} <{email}>, queued {queued:%Y-%m-%d %H:%M} UTC: {reason}")
    if unreachable:
        print("\nPeople the bot cannot reach (invite them, or check their account):")
        for name, email, reason, messages in unreachable:
            plural = "s" if messages != 1 else ""
            print(f"  {name} <{email}>: {messages} message{plural}; {reason}")
    return 0


def _numbers(text: str, count: int) -> list[int]:
    """``--only 1,3,5-7`` as zero-based indexes of the round's proposals."""
    try:
        chosen = parse_selection(text.split(","), count)
    except NotASelection as exc:
        if exc.number is None:
            raise CliError(f"--only {text!r}: list proposal numbers, e.g. --only 1,3,5-7") from None
        raise CliError(
            f"--only: there is no proposal {exc.number}; they go from 1 to {count}"
        ) from None
    return sorted(set(chosen))


async def _match(args: argparse.Namespace, env: Environment) -> int:
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
        plan = await plan_round(session, program, now=now)
        data = round_data(program, plan, reader_zone=reader_zone, now=now)
        entries = data["proposals"]
        chosen = _numbers(args.only, len(entries)) if args.only else list(range(len(entries)))
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
    print(f"{len(entries)} proposal(s) for {plan.mentees} waiting mentee(s):")
    for entry in entries:
        print(f"  {entry['line']}")
    if plan.waiting:
        print(f"{len(plan.waiting)} left on the waitlist:")
        for waiting in plan.waiting:
            who = "a mentee" if blind else waiting.mentee.name
            place = positions.get(waiting.mentee.person_id)
            print(f"  #{place} {who}: {waiting.why}")
    if args.dry_run:
        print("Dry run: nothing was saved or sent.")
    elif result is not None:
        print(f"Sent {len(result.sent)} proposal(s) to mentors.")
        for reason in result.skipped:
            print(f"  not sent: {reason}")
    return 0


async def _pair(args: argparse.Namespace, env: Environment) -> int:
    from handlers import pair_by_hand

    return await _by_hand(args, env, "pair", pair_by_hand)


async def _unexclude(args: argparse.Namespace, env: Environment) -> int:
    from handlers import lift_exclusion

    return await _by_hand(args, env, "unexclude", lift_exclusion)


async def _by_hand(
    args: argparse.Namespace,
    env: Environment,
    action: str,
    act: Callable[..., Awaitable[LeadResult]],
) -> int:
    """``pair`` and ``unexclude``: a program lead's action on one mentee and one mentor."""
    from handlers import find_or_create_person, one_person, record
    from storage import Role

    email = args.as_email.strip().lower()
    async with open_app(env) as app:
        now = app.engine.clock.now()
        result: LeadResult | None = None
        program = (
            app.led_program(args.program, lead=email, verb=action)
            if app.programs.is_lead(email)
            else None
        )
        async with app.database.session() as session:
            if program is None:
                # The attempt is audited: the transaction commits before the refusal.
                await record(
                    session,
                    actor=email,
                    action=action,
                    target=args.mentee[:200],
                    allowed=False,
                    now=now,
                    detail={"channel": "cli"},
                )
            else:
                mentee = await one_person(session, program, typed=args.mentee, role=Role.MENTEE)
                mentor = await one_person(session, program, typed=args.mentor, role=Role.MENTOR)
                if isinstance(mentee, str):
                    raise CliError(mentee)
                if isinstance(mentor, str):
                    raise CliError(mentor)
                lead, _ = await find_or_create_person(session, email=email, now=now)
                result = await act(
                    session, program, mentee=mentee, mentor=mentor, lead=lead, now=now
                )
        if result is None:
            raise CliError(
                f"{args.as_email} is not a program lead; {action} is for the program's leads "
                "and the global leads in app.yaml"
            )
    if not result.done:
        raise CliError(result.as_line())
    print(result.as_line())
    return 0


async def _invite(args: argparse.Namespace, env: Environment) -> int:
    """``invite PROGRAM EMAIL... --as LEAD``: open an invite-only program to people."""
    from handlers import find_or_create_person, invite_people, record

    email = args.as_email.strip().lower()
    async with open_app(env) as app:
        now = app.engine.clock.now()
        program = (
            app.led_program(args.program, lead=email, verb="invite")
            if app.programs.is_lead(email)
            else None
        )
        async with app.database.session() as session:
            if program is None:
                # The attempt is audited: the transaction commits before the refusal.
                await record(
                    session,
                    actor=email,
                    action="invite",
                    target=args.program[:200],
                    allowed=False,
                    now=now,
                    detail={"channel": "cli"},
                )
                result = None
            else:
                lead, _ = await find_or_create_person(session, email=email, now=now)
                result = await invite_people(
                    session, program, lead=lead, emails=args.emails, now=now
                )
    if result is None:
        raise CliError(
            f"{args.as_email} is not a program lead; invite is for the program's leads and "
            "the global leads in app.yaml"
        )
    print(result.summary())
    if not result.complete:
        print("mentorbot: not everyone was invited; see above", file=sys.stderr)
        return 1
    return 0


def _instant(text: str | None, env: Environment) -> datetime:
    """``--now``: an ISO-8601 instant (UTC when no offset is given), or the command's clock."""
    if text is None:
        return env.clock().now()
    moment = parse_instant(text)
    if moment is None:
        raise CliError(f"--now {text!r} is not an ISO-8601 time; write e.g. {INSTANT_EXAMPLES}")
    return moment


async def _run_due(args: argparse.Namespace, env: Environment) -> int:
    from scheduler.due import run_due
    from scheduler.summaries import SummaryReport, summarize_due

    now = _instant(args.now, env)
    summaries: SummaryReport | None = None
    async with open_app(env) as app:
        report = await run_due(app.database, app.programs, now=now)
        summarizer = _summarizer(env)
        if summarizer is not None:
            try:
                summaries = await summarize_due(
                    app.database, app.programs, summarizer=summarizer, now=now
                )
            finally:
                await summarizer.aclose()
    cycle = report.cycle
    lines = [
        f"run-due at {now.isoformat()}:",
        f"  {len(report.lapsed)} unanswered proposal(s) lapsed"
        + (
            f" ({', '.join(str(i) for i in report.lapsed)}); the program leads were told"
            if report.lapsed
            else ""
        ),
        f"  {len(report.reminded)} reminder(s) queued for proposals about to lapse",
        f"  {len(report.resumed)} pause(s) ran out; those people were welcomed back",
        f"  {cycle.processed} due item(s): {cycle.sent} sent, {cycle.suppressed} not needed "
        f"(a session was logged), {cycle.folded} folded into catch-up messages, "
        f"{cycle.held} held (someone is paused), {cycle.closed} of ended pairings",
        f"  {cycle.messages} message(s) queued; {len(cycle.at_risk)} pairing(s) newly at "
        f"risk; {len(cycle.close_proposed)} proposed for closing after a long silence",
    ]
    if report.failed_batches:
        lines.append(
            f"  {report.failed_batches} batch(es) failed and will be retried after the "
            "lease (see the log)"
        )
    if report.notes_expired:
        lines.append(
            f"  {report.notes_expired} session(s) past privacy.retain_notes_days lost "
            "their notes and summary"
        )
    if summaries is not None:
        lines.append(
            f"  {summaries.written} summar{'y' if summaries.written == 1 else 'ies'} of "
            f"session notes written, {summaries.retried} to try again later, "
            f"{summaries.failed} given up on"
        )
    print("\n".join(lines))
    print("Messages wait in the outbox for `mentorbot serve` (or the person's shell).")
    return 0


async def _demo(args: argparse.Namespace, env: Environment) -> int:
    async with open_app(env) as app, app.database.session() as session:
        summary = await load_demo(session, app.programs, now=app.engine.clock.now())
    if not summary.loaded:
        print(f"The directory already has {summary.people} people; demo data not loaded.")
        return 0
    print(
        f"Loaded a demo organisation: {summary.people} people in {summary.departments} departments."
    )
    for enrolled in summary.programs:
        parts = [
            f"{number} {what}"
            for number, what in (
                (enrolled.mentors, "mentors"),
                (enrolled.mentees, "mentees wait for a match"),
                (enrolled.peers, "peers wait for a pair"),
            )
            if number
        ]
        name = f"{enrolled.program.name} ({enrolled.program.id})"
        nobody = "no one invited yet" if enrolled.program.invite_only else "no one enrolled"
        print(f"  {name}: {'; '.join(parts) or nobody}")
    print(f"Try: mentorbot shell --as {DEMO_EMPLOYEE}")
    return 0


Handler = Callable[[argparse.Namespace, Environment], Awaitable[int]]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="mentorbot",
        description="Run a mentorship program in Slack, Teams, or a terminal.",
        epilog="Settings come from MENTORBOT_DATABASE_URL and MENTORBOT_CONFIG (see README); "
        "MENTORBOT_NOW=2026-12-01T09:30 runs a command at that instant.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail to stderr")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(
        name: str, handler: Handler, help_text: str, **kwargs: object
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text, **kwargs)  # type: ignore[arg-type]
        sub.set_defaults(handler=handler)
        return sub

    db = commands.add_parser(
        "db", help="manage the database schema", description="Manage the database schema."
    )
    db_commands = db.add_subparsers(dest="db_command", metavar="COMMAND", required=True)
    upgrade = db_commands.add_parser(
        "upgrade",
        help="create or upgrade the schema to this version (safe to repeat)",
        description="Create or upgrade the schema to this version; safe to repeat.",
    )
    upgrade.set_defaults(handler=_db_upgrade)

    check = add(
        "check-config", _check_config, "validate a program file; prints ok or every problem"
    )
    check.add_argument(
        "file", nargs="?", help="the program file (default: MENTORBOT_CONFIG or ./app.yaml)"
    )

    people = commands.add_parser(
        "people", help="manage the people directory", description="Manage the people directory."
    )
    people_commands = people.add_subparsers(dest="people_command", metavar="COMMAND", required=True)
    imp = people_commands.add_parser(
        "import",
        help="upsert people from a CSV file, by email",
        description=(
            "Upsert people from a CSV with columns email,name,department,title,level,"
            "manager_email,timezone,location (other columns are kept as attributes). Every "
            "row is checked first; nothing is imported if any row is bad, unless --skip-invalid."
        ),
    )
    imp.add_argument("file", help="the CSV file (UTF-8)")
    imp.add_argument(
        "--skip-invalid", action="store_true", help="import the good rows even if some are bad"
    )
    imp.set_defaults(handler=_people_import)

    shell = add("shell", _shell, "talk to the bot in this terminal (or through a pipe) as someone")
    shell.add_argument(
        "--as",
        dest="as_email",
        required=True,
        metavar="EMAIL",
        help="who you are; someone not in the directory is added",
    )

    privacy = commands.add_parser("privacy", help="data rights", description="Data rights.")
    privacy_commands = privacy.add_subparsers(
        dest="privacy_command", metavar="COMMAND", required=True
    )
    export = privacy_commands.add_parser(
        "export",
        help="print everything stored about a person, as JSON",
        description="Print everything stored about a person, as JSON.",
    )
    export.add_argument("email")
    export.set_defaults(handler=_privacy_export)
    forget = privacy_commands.add_parser(
        "forget",
        help="erase a person (their pairings stay as anonymous records)",
        description="Erase a person: their profile, answers, notes and links. Their "
        "pairings and feedback stay as anonymous records so the program's figures hold; "
        "the other side of an open pairing is told.",
    )
    forget.add_argument("email")
    forget.add_argument(
        "--as",
        dest="as_email",
        metavar="EMAIL",
        help="the program lead who asked, for the audit log (default: the operator)",
    )
    forget.set_defaults(handler=_privacy_forget)

    match = add(
        "match",
        _match,
        "propose mentor pairings for everyone waiting and send them to the mentors",
    )
    match.add_argument(
        "--dry-run", action="store_true", help="list the proposals; save and send nothing"
    )
    match.add_argument("--json", action="store_true", help="print the round as JSON")
    match.add_argument(
        "--only", metavar="N,N-M", help="approve only these proposal numbers (from a dry run)"
    )
    match.add_argument(
        "--as", dest="as_email", metavar="EMAIL", help="the program lead approving (recorded)"
    )
    match.add_argument(
        "--program", metavar="ID", help="the program (default: the only one you lead)"
    )

    for name, handler, help_text in (
        ("pair", _pair, "propose one mentee to one mentor outside a round (program leads)"),
        (
            "unexclude",
            _unexclude,
            "let a mentee and a mentor be proposed again after a declined or lapsed proposal "
            "(program leads)",
        ),
    ):
        by_hand = add(name, handler, help_text)
        by_hand.add_argument("mentee", metavar="MENTEE_EMAIL", help="the mentee")
        by_hand.add_argument("mentor", metavar="MENTOR_EMAIL", help="the mentor")
        by_hand.add_argument(
            "--as", dest="as_email", required=True, metavar="EMAIL", help="the program lead"
        )
        by_hand.add_argument(
            "--program", metavar="ID", help="the program (default: the only one you lead)"
        )

    invite = add(
        "invite",
        _invite,
        "invite people to a program; each gets a message with a Join button (program leads)",
    )
    invite.add_argument("program", metavar="PROGRAM", help="the program's id")
    invite.add_argument("emails", metavar="EMAIL", nargs="+", help="who to invite")
    invite.add_argument(
        "--as", dest="as_email", required=True, metavar="EMAIL", help="the program lead"
    )

    report = add(
        "report",
        _report,
        "print a program lead's report (overview, cadence, at-risk, feedback, ...)",
    )
    report.add_argument("kind", metavar="KIND", help="which report, e.g. overview or ops")
    report.add_argument(
        "--as", dest="as_email", required=True, metavar="EMAIL", help="the program lead asking"
    )
    report.add_argument(
        "--format", choices=("table", "csv", "json"), default="table", help="default: table"
    )
    report.add_argument(
        "--program",
        metavar="ID",
        help="the program, archived ones too (default: the only one you lead; for report "
        "programs: every one you lead)",
    )
    listing = add("programs", _programs, "list the programs with their type, state and head counts")
    listing.add_argument("--json", action="store_true", help="print the programs as JSON")
    audit = add(
        "audit", _audit, "list who did what and when: reports, approvals, pairs by hand, erasures"
    )
    audit.add_argument("--since", metavar="DATE", help="only entries from this day on")
    audit.add_argument("--json", action="store_true", help="print the entries as JSON")

    due = add("run-due", _run_due, "do one pass of everything due (safe to repeat)")
    due.add_argument(
        "--now",
        metavar="ISO-8601",
        help="the instant to run at, e.g. 2026-12-01T09:30 (default: MENTORBOT_NOW if set, "
        "else now)",
    )

    add("demo", _demo, "load a demo organisation into an empty directory")
    add("outbox", _outbox, "count queued messages by status and list who cannot be reached")

    serve = add("serve", _serve, "serve Slack (and /healthz, /metrics) over HTTP and run the tick")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=3978, help="port to bind (default 3978)")
    serve.add_argument(
        "--allow-fake-clock",
        action="store_true",
        help="serve even though MENTORBOT_NOW is set (demos, training): time then stands "
        "still at that instant, so nothing new falls due and a delayed retry never comes",
    )

    manifest = add(
        "slack-manifest", _slack_manifest, "print a Slack app manifest (YAML) for this bot"
    )
    manifest.add_argument("--url", help="the public base URL, e.g. https://mentorbot.example.com")
    manifest.add_argument("--name", default="mentorbot", help="the app's name in Slack")
    manifest.add_argument(
        "--socket-mode", action="store_true", help="for Socket Mode (no public URL needed)"
    )

    teams_package = add(
        "teams-manifest", _teams_manifest, "write the Teams app package (manifest.json and icons)"
    )
    teams_package.add_argument("--out", required=True, metavar="FILE.zip", help="where to write it")
    teams_package.add_argument(
        "--bot-id", help="the Azure Bot's Microsoft App ID (default: MicrosoftAppId)"
    )
    teams_package.add_argument("--name", default="mentorbot", help="the app's name in Teams")
    teams_package.add_argument(
        "--website",
        default="https://github.com/mentorbot/mentorbot",
        help="the developer website (https)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        configure_logging(args.verbose, os.environ.get("MENTORBOT_LOG_FORMAT", ""))
    except LogFormatError as exc:
        print(f"mentorbot: {exc}", file=sys.stderr)
        return 1
    try:
        env = Environment.from_environ()
        code: int = asyncio.run(args.handler(args, env))
        return code
    except ProgramFileError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return 1
    except (CliError, StorageError, SettingsError) as exc:
        print(f"mentorbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _reader_gone()


def _reader_gone() -> int:
    """The reader of our output went away (``mentorbot ... | head``): end quietly.

    As Unix tools do: no message, and the exit status of a process ended by SIGPIPE. What
    is still buffered for stdout goes to /dev/null, so the interpreter's own flush at exit
    does not fail and print a traceback after all.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (tests): nothing to flush
        pass
    return 128 + 13  # 13 is SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
