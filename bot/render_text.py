"""Plain-text rendering of neutral replies, for the shell (and any client without cards).

Rich output degrades to numbered text, as Rasa's ``send_text_with_buttons`` does: a
question's options are numbered, and so are buttons (Accept / Decline on a proposal) when no
question is waiting, so that typing the number presses the button.
"""

from __future__ import annotations

from handlers.messages import Option, Reply, plural

#: The report kind whose table goes out as a file (a CSV) rather than as a picture.
EXPORT_KIND = "export"


def render_text(reply: Reply, *, first_button: int | None = None) -> str:
    """One reply as the lines a terminal shows.

    Args:
        reply: The reply.
        first_button: The number of its first button; None shows buttons as the command
            to type instead.
    """
    lines: list[str] = []
    if reply.title:
        lines.append(f"== {reply.title} ==")
    lines.append(reply.text)
    for label, value in reply.fields:
        lines.append(f"  • {label}\n      {value}")
    prompt = reply.prompt
    if prompt is not None and prompt.options:
        width = len(str(len(prompt.options)))
        lines.extend(f"  {i:>{width}}. {o.label}" for i, o in enumerate(prompt.options, start=1))
    for offset, action in enumerate(reply.actions):
        if first_button is None:
            lines.append(f"  [{action.label}: type {action.value}]")
        else:
            lines.append(f"  {first_button + offset}. {action.label}")
    if reply.hint:
        lines.append(f"  ({reply.hint})")
    if reply.attachment is not None:
        # A terminal has no files: the content follows, for the person to copy or redirect.
        lines.append(f"--- {reply.attachment.filename} ---")
        lines.append(reply.attachment.content)
    return "\n".join(lines)


def buttons(replies: list[Reply]) -> list[Option]:
    """The buttons a number answers: all of them, unless a question is waiting for one."""
    if any(r.prompt is not None and r.prompt.options for r in replies):
        return []
    return [action for reply in replies for action in reply.actions]


def render_all(replies: list[Reply]) -> str:
    """Several replies, separated by blank lines; buttons numbered across them."""
    numbered = bool(buttons(replies))
    parts = []
    number = 1
    for reply in replies:
        parts.append(render_text(reply, first_button=number if numbered else None))
        number += len(reply.actions)
    return "\n\n".join(parts)


# -- reports: what the rich renderers (Block Kit, Adaptive Cards) share -----------------------


def more_rows(kind: str, hidden: int, *, first_table: bool) -> str:
    """The line under a cut table: how many rows are missing and how to get them all.

    ``--format csv`` holds a report's first table only; JSON holds every table. The CLI
    also needs ``--as`` (the lead asking), so the command says so.
    """
    return f"… {plural(hidden, 'more row')}, run `{report_command(kind, first_table)}` for all"


def report_command(kind: str, first_table: bool = True) -> str:
    """The CLI command that prints all of a report's rows."""
    output = "csv" if first_table else "json"
    return f"mentorbot report {kind} --format {output} --as EMAIL"
