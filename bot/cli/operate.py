"""The operator's commands: the database, the program file, serving, the shell, the demo."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import (
    Environment,
    check_program_file,
    load_programs,
)
from bot.demo import DEMO_EMPLOYEE, load_demo
from bot.shell import run_shell
from handlers import (
    build_engine,
    is_email,
    plural,
)
from storage import Database

if TYPE_CHECKING:
    pass

from bot.cli.app import CliError, instant, open_app, summarizer_for


async def db_upgrade(args: argparse.Namespace, env: Environment) -> int:
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


async def check_config(args: argparse.Namespace, env: Environment) -> int:
    _, notes = check_program_file(args.file or env.config_path)
    for note in notes:
        print(f"note: {note}")
    print("ok")
    return 0


async def shell(args: argparse.Namespace, env: Environment) -> int:
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
            files_dir=Path(env.files_dir),
        )
    return 0


async def serve(args: argparse.Namespace, env: Environment) -> int:
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
    summarizer = summarizer_for(env)
    try:
        await database.ensure_schema()
        runtime = build_runtime(
            programs=programs,
            database=database,
            slack=slack,
            teams=teams,
            clock=env.clock(),
            summarizer=summarizer,
            public_url=env.public_url,
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


async def slack_manifest(args: argparse.Namespace, env: Environment) -> int:
    import yaml

    from bot.slack.manifest import ManifestError, slack_manifest

    try:
        manifest = slack_manifest(url=args.url, name=args.name, socket_mode=args.socket_mode)
    except ManifestError as exc:
        raise CliError(str(exc)) from None
    print(yaml.safe_dump(manifest, sort_keys=False), end="")
    return 0


async def teams_manifest(args: argparse.Namespace, env: Environment) -> int:
    from bot.teams.manifest import ManifestError, app_package, suggested, teams_manifest

    bot_id = args.bot_id or env.teams_app_id
    if not bot_id:
        raise CliError("give --bot-id (the Azure Bot's Microsoft App ID) or set MicrosoftAppId")
    programs = load_programs(env.config_path)
    engine = build_engine(programs=programs, database=Database(env.database_url))
    try:
        manifest = teams_manifest(
            bot_id=bot_id,
            name=args.name,
            program_name=programs.first.name if not programs.several else "mentoring programs",
            commands=suggested((c.name, c.summary) for c in engine.commands),
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


async def outbox(args: argparse.Namespace, env: Environment) -> int:
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
            print(f"  {name} <{email}>: {plural(messages, 'message')}; {reason}")
    return 0


async def run_due(args: argparse.Namespace, env: Environment) -> int:
    from scheduler.due import run_due
    from scheduler.summaries import SummaryReport, summarize_due

    now = instant(args.now, env)
    summaries: SummaryReport | None = None
    async with open_app(env) as app:
        report = await run_due(app.database, app.programs, now=now)
        summarizer = summarizer_for(env)
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
        f"  {plural(len(report.lapsed), 'unanswered proposal')} lapsed"
        + (
            f" ({', '.join(str(i) for i in report.lapsed)}); the program leads were told"
            if report.lapsed
            else ""
        ),
        f"  {plural(len(report.reminded), 'reminder')} queued for proposals about to lapse",
        f"  {plural(len(report.resumed), 'pause')} ran out; "
        + ("that person was" if len(report.resumed) == 1 else "those people were")
        + " welcomed back",
        f"  {plural(cycle.processed, 'due item')}: {cycle.sent} sent, {cycle.suppressed} not "
        f"needed (a session was logged), {cycle.folded} folded into catch-up messages, "
        f"{cycle.held} held (someone is paused), {cycle.closed} of ended pairings",
        f"  {plural(cycle.messages, 'message')} queued; "
        f"{plural(len(cycle.at_risk), 'pairing')} newly at "
        f"risk; {len(cycle.close_proposed)} proposed for closing after a long silence",
    ]
    if report.circles_lapsed or report.circles_reminded or report.circles:
        lapsed = ", ".join(f"C{i}" for i in report.circles_lapsed)
        lines.append(
            f"  circles: {plural(len(report.circles_lapsed), 'proposal')} lapsed"
            + (f" ({lapsed}); the program leads were told" if lapsed else "")
            + f", {len(report.circles_reminded)} reminded before they lapse, "
            f"{plural(report.circles, 'item')} of running circles done (session nudges, "
            "end reviews)"
        )
    if report.failed_batches:
        lines.append(
            f"  {plural(report.failed_batches, 'batch', many='batches')} failed and will be "
            "retried after the "
            "lease (see the log)"
        )
    if report.notes_expired:
        lines.append(
            f"  {plural(report.notes_expired, 'session')} past privacy.retain_notes_days lost "
            "their notes and summary"
        )
    if report.messages_expired:
        lines.append(
            f"  {plural(report.messages_expired, 'message')} that went out more than "
            "privacy.retain_messages_days ago deleted"
        )
    if summaries is not None:
        lines.append(
            f"  {plural(summaries.written, 'summary', many='summaries')} of "
            f"session notes written, {summaries.retried} to try again later, "
            f"{summaries.failed} given up on"
        )
    print("\n".join(lines))
    print("Messages wait in the outbox for `mentorbot serve` (or the person's shell).")
    return 0


async def demo(args: argparse.Namespace, env: Environment) -> int:
    async with open_app(env) as app, app.database.session() as session:
        summary = await load_demo(session, app.programs, now=app.engine.clock.now())
    if not summary.loaded:
        people = plural(summary.people, "person", many="people")
        print(f"The directory already has {people}; demo data not loaded.")
        return 0
    print(
        f"Loaded a demo organisation: {plural(summary.people, 'person', many='people')} in "
        f"{plural(summary.departments, 'department')}."
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
