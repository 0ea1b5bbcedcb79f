"""The pieces every Adaptive Card of mentorbot is built from: text, facts, Markdown escaping.

Teams reads a ``TextBlock``'s text and a ``FactSet``'s titles and values as Markdown (a
CommonMark subset). What people wrote (and everything else a neutral reply carries: it is
plain words) goes through :func:`said`, which escapes that Markdown, so a milestone typed
as ``[Sign in](https://evil.example)`` shows as those characters, not as a link. Our own
wording keeps its Markdown (:func:`text_block`).

The message cards (bot.teams.cards), reports (bot.teams.reports) and forms
(bot.teams.forms) all build on this module, which imports none of them.
"""

from __future__ import annotations

import re
from typing import Any

Card = dict[str, Any]
#: The content type of an Adaptive Card attachment.
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
#: Card schema version for everything Teams renders everywhere (a report's tables need 1.5).
VERSION = "1.4"
#: Most characters of a typed answer.
TEXT_LIMIT = 2000
#: Where a submit action carries what its card asked (a question's text, a form's title),
#: so the answered card can say it again.
QUESTION = "mb_question"


def text_block(text: str, **style: Any) -> dict[str, Any]:
    """A text block of our own wording: its Markdown is ours and renders."""
    return {"type": "TextBlock", "text": lines(text), "wrap": True, **style}


def said_block(text: str, **style: Any) -> dict[str, Any]:
    """A text block showing ``text`` exactly as written (see :func:`said`)."""
    return text_block(said(text), **style)


def lines(text: str) -> str:
    """Text whose every line shows as a line of its own in Teams.

    Teams reads a TextBlock (and a fact) as Markdown, where a single newline is a soft
    break that joins two lines into one paragraph; Teams asks for ``\n\n`` for a new
    line. Each line becomes a paragraph; blank lines and a line's surrounding spaces add
    nothing (Markdown drops them, and four leading spaces would start a code block).
    """
    return "\n\n".join(line.strip() for line in text.splitlines() if line.strip())


#: What CommonMark can read as markup anywhere in a line: a backslash, code, emphasis,
#: strikethrough, link and image brackets, autolinks and HTML, and character references
#: (``&lt;`` would show as ``<``). An underscore between two letters or digits cannot
#: start or end emphasis, so ``first_name`` is left as it is.
_INLINE_MARKUP = re.compile(r"[\\`*~\[\]<]|&(?=#?\w+;)|(?<![^\W_])_|_(?![^\W_])")
#: What CommonMark reads as markup at the start of a line: a heading, a quote, a setext
#: underline, a bullet (``-`` or ``+`` before a space) and a number ending in ``.`` or
#: ``)`` before a space (an ordered list). ``*`` is escaped everywhere already.
_LINE_MARKUP = re.compile(
    r"(?:(?<=\A)|(?<=[\r\n]))([ \t]*)"  # a line's start: CommonMark ends lines at \r too
    r"(?:([#>=])|([-+])(?=[ \t-]|[\r\n]|\Z)|(\d{1,9})([.)])(?=[ \t\r\n]|\Z))"
)


def said(text: str) -> str:
    """Text shown literally where Teams reads Markdown: each markup character escaped.

    CommonMark's own way: a backslash before an ASCII punctuation character makes it a
    literal character. Only characters that could start markup where they stand are
    escaped, so ordinary sentences reach the card unchanged.
    """
    text = _INLINE_MARKUP.sub(lambda m: "\\" + m.group(0), text)

    def line_start(match: re.Match[str]) -> str:
        indent, mark, bullet, number, delimiter = match.groups()
        if number is not None:
            return f"{indent}{number}\\{delimiter}"
        return f"{indent}\\{mark or bullet}"

    return _LINE_MARKUP.sub(line_start, text)


def fact_set(pairs: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """Label/value pairs as a fact set; a label can hold what a person wrote (a milestone)."""
    return {
        "type": "FactSet",
        "facts": [{"title": lines(said(k)), "value": lines(said(v))} for k, v in pairs],
    }
