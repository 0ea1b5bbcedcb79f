"""Reports for program leads: ``report ops``, the health of message delivery.

Only program leads may run a report (the engine refuses everyone else).
"""

from __future__ import annotations

from handlers.engine import Command, Outcome, Turn
from handlers.messages import Reply
from handlers.outbox import backlog, count_by_status, failed_messages, unreachable_people

KINDS = ("ops",)


async def ops_report(turn: Turn) -> Reply:
    """Outbox backlog, messages given up on (with why), and people the bot cannot reach."""
    counts = await count_by_status(turn.session)
    failed = await failed_messages(turn.session)
    unreachable = await unreachable_people(turn.session)
    lines = [
        f"Waiting to go out: {backlog(counts)}. Sent: {counts['sent']}. "
        f"Failed: {counts['failed']}. Undeliverable: {counts['undeliverable']}."
    ]
    if failed:
        lines.append("Messages given up on (newest first):")
        lines += [
            f"• {name} <{email}>, queued {queued:%-d %b %H:%M} UTC: {reason}"
            for name, email, reason, _, queued in failed
        ]
    if unreachable:
        lines.append("People I cannot reach (invite them, or check their account):")
        lines += [
            f"• {name} <{email}>: {count} message{'s' if count != 1 else ''}; {reason}"
            for name, email, reason, count in unreachable
        ]
    if not failed and not unreachable:
        lines.append("Every message so far was delivered or is on its way.")
    return Reply("\n".join(lines), title="Operations: message delivery")


async def _report(turn: Turn, args: list[str]) -> Outcome:
    kind = args[0].lower() if args else ""
    if kind != "ops":
        known = ", ".join(KINDS)
        said = f"There's no report {kind!r}. " if kind else ""
        return Outcome(
            [Reply(f"{said}Type report and a kind; available: {known}.")], None, changed=False
        )
    return Outcome([await ops_report(turn)], None, changed=False)


def commands() -> list[Command]:
    """The lead's report command."""
    return [
        Command("report", "reports for program leads (ops)", _report, usage="KIND", lead_only=True)
    ]
