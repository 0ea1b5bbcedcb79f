"""Commands about people: importing the directory, data rights, invitations."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import (
    Environment,
)
from handlers import (
    CsvFormatError,
    NotALead,
    export_person,
    forget_person,
    import_people,
    plural,
)

if TYPE_CHECKING:
    pass

from bot.cli.app import CliError, open_app


async def people_import(args: argparse.Namespace, env: Environment) -> int:
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


async def privacy_export(args: argparse.Namespace, env: Environment) -> int:
    async with open_app(env) as app, app.database.session() as session:
        document = await export_person(session, args.email)
    if document is None:
        raise CliError(f"no one with the email {args.email} is in the directory")
    print(json.dumps(document, indent=2, ensure_ascii=False))
    return 0


async def privacy_forget(args: argparse.Namespace, env: Environment) -> int:
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
        f"{plural(erasure.pairings_ended, 'open pairing')} ended and the other side told"
        + (
            f"; left {plural(erasure.circles_left, 'open circle')}, whose others were told"
            if erasure.circles_left
            else ""
        )
    )
    if not erasure.compacted:
        print(
            "note: another process held the SQLite log open; its old pages are cleared "
            "when it next checkpoints"
        )
    return 0


async def invite(args: argparse.Namespace, env: Environment) -> int:
    """``invite PROGRAM EMAIL... --as LEAD``: open an invite-only program to people."""
    from handlers import find_or_create_person, invite_people

    email = args.as_email.strip().lower()
    async with open_app(env) as app:
        now = app.engine.clock.now()
        program = await app.lead_or_refuse(
            args.program, lead=email, action="invite", target=args.program
        )
        async with app.database.session() as session:
            lead, _ = await find_or_create_person(session, email=email, now=now)
            result = await invite_people(session, program, lead=lead, emails=args.emails, now=now)
    print(result.summary())
    if not result.complete:
        print("mentorbot: not everyone was invited; see above", file=sys.stderr)
        return 1
    return 0
