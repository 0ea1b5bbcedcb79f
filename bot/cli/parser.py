"""The command line's words: every subcommand, its arguments and its help."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable

from bot.cli import leads, operate
from bot.cli import people as directory
from bot.config import Environment

#: What runs a subcommand: its arguments and the environment in, the exit code out.
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
    upgrade.set_defaults(handler=operate.db_upgrade)

    check = add(
        "check-config", operate.check_config, "validate a program file; prints ok or every problem"
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
    imp.set_defaults(handler=directory.people_import)

    shell = add(
        "shell", operate.shell, "talk to the bot in this terminal (or through a pipe) as someone"
    )
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
    export.set_defaults(handler=directory.privacy_export)
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
    forget.set_defaults(handler=directory.privacy_forget)

    match = add(
        "match",
        leads.match,
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
        ("pair", leads.pair, "propose one mentee to one mentor outside a round (program leads)"),
        (
            "unexclude",
            leads.unexclude,
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
        directory.invite,
        "invite people to a program; each gets a message with a Join button (program leads)",
    )
    invite.add_argument("program", metavar="PROGRAM", help="the program's id")
    invite.add_argument("emails", metavar="EMAIL", nargs="+", help="who to invite")
    invite.add_argument(
        "--as", dest="as_email", required=True, metavar="EMAIL", help="the program lead"
    )

    report = add(
        "report",
        leads.report,
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
    listing = add(
        "programs", leads.programs, "list the programs with their type, state and head counts"
    )
    listing.add_argument("--json", action="store_true", help="print the programs as JSON")
    audit = add(
        "audit",
        leads.audit,
        "list who did what and when: reports, approvals, pairs by hand, erasures",
    )
    audit.add_argument("--since", metavar="DATE", help="only entries from this day on")
    audit.add_argument("--json", action="store_true", help="print the entries as JSON")

    due = add("run-due", operate.run_due, "do one pass of everything due (safe to repeat)")
    due.add_argument(
        "--now",
        metavar="ISO-8601",
        help="the instant to run at, e.g. 2026-12-01T09:30 (default: MENTORBOT_NOW if set, "
        "else now)",
    )

    add("demo", operate.demo, "load a demo organisation into an empty directory")
    add("outbox", operate.outbox, "count queued messages by status and list who cannot be reached")

    serve = add(
        "serve", operate.serve, "serve Slack (and /healthz, /metrics) over HTTP and run the tick"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=3978, help="port to bind (default 3978)")
    serve.add_argument(
        "--allow-fake-clock",
        action="store_true",
        help="serve even though MENTORBOT_NOW is set (demos, training): time then stands "
        "still at that instant, so nothing new falls due and a delayed retry never comes",
    )

    manifest = add(
        "slack-manifest", operate.slack_manifest, "print a Slack app manifest (YAML) for this bot"
    )
    manifest.add_argument("--url", help="the public base URL, e.g. https://mentorbot.example.com")
    manifest.add_argument("--name", default="mentorbot", help="the app's name in Slack")
    manifest.add_argument(
        "--socket-mode", action="store_true", help="for Socket Mode (no public URL needed)"
    )

    teams_package = add(
        "teams-manifest",
        operate.teams_manifest,
        "write the Teams app package (manifest.json and icons)",
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
