"""Plain-text rendering of neutral replies, for the shell (and any client without cards).

Rich output degrades to numbered text, as Rasa's ``send_text_with_buttons`` does.
"""

from __future__ import annotations

from handlers.messages import Reply


def render_text(reply: Reply) -> str:
    """One reply as the lines a terminal shows."""
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
    if reply.hint:
        lines.append(f"  ({reply.hint})")
    return "\n".join(lines)


def render_all(replies: list[Reply]) -> str:
    """Several replies, separated by blank lines."""
    return "\n\n".join(render_text(r) for r in replies)
