"""The neutral message model: what comes in from any channel and what goes back.

Channels (shell, Slack, Teams) translate to and from these at their edge; handlers/ never
knows which channel a person is on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from handlers.core.calendar import local_date
from handlers.core.figures import Report
from handlers.core.program import Question

#: Characters nobody means to type: C0 controls but tab, newline and carriage return; DEL;
#: C1 controls; and lone surrogates (not text at all). PostgreSQL refuses NUL in text.
_UNTYPEABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def typeable(text: str) -> str:
    """``text`` without control characters, so it can be stored on any database.

    Every inbound message applies this to what a person typed, sent or clicked, once,
    at the boundary of the neutral model, so no flow or form handler has to.
    """
    return _UNTYPEABLE.sub("", text)


@dataclass(frozen=True)
class Action:
    """A click or form submission that answers a specific prompt.

    Attributes:
        token: The token of the prompt it answers; a click on an old prompt is refused.
        values: The chosen option values, or the typed value of a form field.
    """

    token: str
    values: tuple[str, ...]

    def __post_init__(self) -> None:
        # A clicked value can carry typed text (a form field sent as one value).
        object.__setattr__(self, "values", tuple(typeable(v) for v in self.values))


@dataclass(frozen=True)
class Submission:
    """A whole form sent back at once (a Slack modal, a Teams card).

    Attributes:
        form: The form's name (:attr:`Form.name`): which handler takes it.
        ref: What the form was about (:attr:`Form.ref`), handed back unchanged.
        values: What was entered, by question id: the chosen option values, or the typed
            text (a date as ``YYYY-MM-DD``) as a single value; missing when left blank.
    """

    form: str
    ref: str
    values: dict[str, tuple[str, ...]]

    def __post_init__(self) -> None:
        object.__setattr__(self, "ref", typeable(self.ref))
        object.__setattr__(
            self,
            "values",
            {key: tuple(typeable(v) for v in given) for key, given in self.values.items()},
        )


@dataclass(frozen=True)
class Inbound:
    """One thing a person said or clicked.

    Attributes:
        channel: Which channel it came from (``shell``, ``slack``, ``teams``).
        user_key: The person's id on that channel; with ``channel`` it keys the flow state.
        person_id: The directory person behind the user.
        text: What they typed (empty for a click).
        action: What they clicked or submitted, if anything.
        event_id: The platform's id of this message, when it re-sends messages it
            thinks failed; a second turn with the same id is ignored.
    """

    channel: str
    user_key: str
    person_id: int
    text: str = ""
    action: Action | None = None
    event_id: str | None = None
    #: True on channels that can show a whole form at once (Slack, Teams); the shell asks
    #: a form's questions one at a time instead.
    forms: bool = False
    #: A whole form sent back (see :meth:`handlers.core.engine.Engine.submit`).
    form: Submission | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", typeable(self.text))


class PromptKind(StrEnum):
    """How a prompt is answered."""

    SINGLE = "single"
    MULTI = "multi"
    TEXT = "text"
    NUMBER = "number"
    #: A whole number from ``min`` to ``max``: a rating.
    SCALE = "scale"
    #: A calendar day, answered as ``YYYY-MM-DD`` (or typed as a channel's words allow).
    DATE = "date"


@dataclass(frozen=True)
class Option:
    """One choice of a prompt: the value sent back and the label shown."""

    value: str
    label: str


@dataclass(frozen=True)
class Prompt:
    """A question awaiting an answer; renderers show it as buttons, a card or numbers.

    Attributes:
        kind: How it is answered.
        options: The choices of a single or multiple choice.
        min: Fewest choices (multiple choice) or lowest number.
        max: Most choices (multiple choice) or highest number.
        optional: Whether ``skip`` is allowed.
        label: The question in a few words, as a form labels its field (the question's
            prompt); a channel that labels answer fields (Teams) shows it there, and a
            line of the reply's text that holds it becomes that label. Empty: the channel
            names the field after its kind ("Your answer").
        token: Set by the engine: identifies this exact prompt so a stale click is refused.
    """

    kind: PromptKind
    options: tuple[Option, ...] = ()
    min: int | None = None
    max: int | None = None
    optional: bool = False
    label: str = ""
    token: str = ""


@dataclass(frozen=True)
class Form:
    """A questionnaire answered in one go: a Slack modal, or a Teams card with inputs.

    Forms answer a person directly and never travel through the outbox; an unprompted
    message offers a button whose command opens the form instead.

    Attributes:
        name: Which form handler takes the submission (``log``, ``feedback``).
        ref: What the form is about (a pairing id, a feedback request id).
        title: A short heading (Slack cuts modal titles at 24 characters).
        questions: The fields, in order.
        initial: Answers to show already filled in, by question id, as stored answers.
        intro: A sentence above the fields.
        submit: The submit button's label.
        reopen: The command that opens this form again (a Slack message's button runs it,
            since a modal can only open in answer to a click).
    """

    name: str
    ref: str
    title: str
    questions: tuple[Question, ...]
    initial: tuple[tuple[str, Any], ...] = ()
    intro: str = ""
    submit: str = "Save"
    reopen: str = ""

    def initial_of(self, question_id: str) -> Any:
        """The filled-in answer of a question, or None."""
        return dict(self.initial).get(question_id)


@dataclass(frozen=True)
class Attachment:
    """A file that goes with a reply (a person's data export, a meeting's invite).

    Slack uploads it to the conversation, Teams offers it through the file-consent flow,
    and the shell prints its content after the reply's text (an invite it writes to a file
    under ``MENTORBOT_FILES_DIR``). A small one (at most :data:`QUEUED_ATTACHMENT_BYTES`)
    can travel through the outbox; a data export answers the person directly.

    Attributes:
        filename: The name the file is saved under (``mentorbot-my-data.json``).
        content: The file's text.
        media_type: Its MIME type (``application/json``).
    """

    filename: str
    content: str
    media_type: str


#: The largest attachment the outbox holds (an invite is a few kilobytes); a bigger file
#: answers a person directly, so a queued payload never grows past what a row should hold.
QUEUED_ATTACHMENT_BYTES = 64 * 1024


#: Most people a message shows side by side (a pair's introduction shows both).
MOST_PROFILES = 2
#: Most lines of a profile's short part, its heading included; the rest is behind "More".
PROFILE_LINES = 6


@dataclass(frozen=True)
class PersonProfile:
    """A person as a message introduces them: a few lines at once, the rest behind "More".

    Two profiles in one reply are shown side by side (Slack section fields, a Teams
    ``ColumnSet``); what is in ``more`` opens on demand (a Slack button, a Teams
    ``Action.ShowCard``); the shell prints both parts.

    Attributes:
        heading: Whom it is about (their name).
        short: Label/value pairs shown at once: at most :data:`PROFILE_LINES` - 1, each
            value one line (handlers.people.lookups cuts them).
        more: The rest of the profile, and the whole of a value ``short`` had to cut.
    """

    heading: str
    short: tuple[tuple[str, str], ...]
    more: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if len(self.short) >= PROFILE_LINES:
            raise ValueError(f"a profile shows at most {PROFILE_LINES - 1} facts at once")

    def whole(self) -> tuple[tuple[str, str], ...]:
        """Every fact once, in full: for a channel that shows everything (the shell).

        A short value that was cut is given whole, where it stands in the short part.
        """
        rest = list(self.more)
        facts = []
        for label, value in self.short:
            full = next((fact for fact in rest if fact[0] == label), None)
            if full is not None:
                rest.remove(full)
            facts.append(full or (label, value))
        return (*facts, *rest)


@dataclass(frozen=True)
class DaysSince:
    """A number of days in a message, counted when it is delivered, not when it is queued.

    A queued message can wait hours or days before it goes out (working hours, a busy
    platform, an outage), so "It's been 12 days" would be stale by then. Such a message
    keeps the day it counts from instead, and :func:`at_delivery` writes the count in at
    the moment of delivery.

    Attributes:
        since: The day the count starts from, in the reader's calendar.
        zone: The reader's timezone, whose today the count runs to.
    """

    since: date
    zone: str

    def words(self, now: datetime) -> str:
        """The count at ``now`` in words: ``1 day``, ``12 days``."""
        return plural(max(0, (local_date(now, self.zone) - self.since).days), "day")


#: The text of a reply that counts days, as pieces: words, and counts worked out later.
Pieces = tuple[str | DaysSince, ...]


def join_pieces(pieces: Sequence[str | DaysSince], now: datetime) -> str:
    """The text that ``pieces`` read as at ``now``."""
    return "".join(p if isinstance(p, str) else p.words(now) for p in pieces)


def first_sentence(pieces: Sequence[str | DaysSince]) -> Pieces:
    """The pieces up to the end of the first sentence (its full stop left out)."""
    found: list[str | DaysSince] = []
    for piece in pieces:
        if isinstance(piece, str) and ". " in piece:
            found.append(piece.split(". ", 1)[0])
            break
        found.append(piece)
    last = found[-1] if found else ""
    if isinstance(last, str):
        found[-1:] = [last.rstrip(".")]
    return tuple(found)


@dataclass(frozen=True)
class Reply:
    """One message to a person.

    Attributes:
        text: The message in plain words (every channel can show it).
        title: A short heading for rich renderers.
        fields: Label/value pairs (a summary, a profile) shown as a list.
        prompt: The question this message asks, if any.
        hint: A quiet line after the question (what else can be typed).
        actions: Commands offered as buttons; an option's value is the command to run
            (e.g. ``status``), as if the person had typed it.
        form: A whole form to fill in (see :class:`Form`); channels without forms never
            receive one.
        report: A lead's report as data, for channels that render tables and charts;
            ``text`` holds its plain rendering.
        attachment: A file sent with the message (see :class:`Attachment`); ``text`` says
            what it is. Only a small one can be queued (:func:`reply_to_dict`).
        profiles: People introduced (see :class:`PersonProfile`): one, or two side by side.
        counted: The text as pieces when it counts days (see :class:`DaysSince`): then
            ``text`` is how it read when it was written, and delivery writes it anew from
            these pieces with the delivery clock (:func:`at_delivery`). Build such a reply
            with :func:`counting`.
    """

    text: str
    title: str | None = None
    fields: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    prompt: Prompt | None = None
    hint: str | None = None
    actions: tuple[Option, ...] = ()
    form: Form | None = None
    report: Report | None = None
    attachment: Attachment | None = None
    profiles: tuple[PersonProfile, ...] = ()
    counted: Pieces = ()

    def __post_init__(self) -> None:
        if len(self.profiles) > MOST_PROFILES:
            raise ValueError(f"a message shows at most {MOST_PROFILES} profiles side by side")


def counting(pieces: Sequence[str | DaysSince], *, now: datetime, **fields: Any) -> Reply:
    """A reply whose text counts days: it reads right at ``now`` and again when delivered.

    Args:
        pieces: The text as words and :class:`DaysSince` counts, in order.
        now: The moment it is written.
        fields: The reply's other attributes (title, actions, ...).
    """
    kept = tuple(pieces)
    counts = any(isinstance(p, DaysSince) for p in kept)
    return Reply(join_pieces(kept, now), counted=kept if counts else (), **fields)


def at_delivery(reply: Reply, now: datetime) -> Reply:
    """The reply as it reads at ``now``, the moment it is delivered: its day counts redone."""
    if not reply.counted:
        return reply
    return replace(reply, text=join_pieces(reply.counted, now))


def _piece_to_dict(piece: str | DaysSince) -> str | dict[str, str]:
    if isinstance(piece, str):
        return piece
    return {"days_since": piece.since.isoformat(), "zone": piece.zone}


def _piece_from_dict(data: str | dict[str, str]) -> str | DaysSince:
    if isinstance(data, str):
        return data
    return DaysSince(date.fromisoformat(data["days_since"]), data["zone"])


def _option(option: Option) -> dict[str, Any]:
    return {"value": option.value, "label": option.label}


def reply_to_dict(reply: Reply) -> dict[str, Any]:
    """A reply as JSON-ready data (for the outbox); what ``dataclasses.asdict`` gives.

    Written out because a tick serialises a reply for every message it queues, and
    ``asdict`` deep-copies as it recurses.
    """
    if reply.form is not None or reply.report is not None:
        raise ValueError("forms and reports answer a person directly; they are not queued")
    attachment = reply.attachment
    if attachment is not None and len(attachment.content.encode()) > QUEUED_ATTACHMENT_BYTES:
        raise ValueError(
            f"{attachment.filename} is too large to queue (more than "
            f"{QUEUED_ATTACHMENT_BYTES // 1024} KiB); send it in answer to the person instead"
        )
    prompt = reply.prompt
    data: dict[str, Any] = {
        "text": reply.text,
        "title": reply.title,
        "fields": [[label, value] for label, value in reply.fields],
        "prompt": None
        if prompt is None
        else {
            "kind": prompt.kind,
            "options": [_option(o) for o in prompt.options],
            "min": prompt.min,
            "max": prompt.max,
            "optional": prompt.optional,
            "label": prompt.label,
            "token": prompt.token,
        },
        "hint": reply.hint,
        "actions": [_option(o) for o in reply.actions],
        "profiles": [_profile_to_dict(p) for p in reply.profiles],
    }
    if reply.counted:
        data["counted"] = [_piece_to_dict(p) for p in reply.counted]
    if attachment is not None:
        data["attachment"] = {
            "filename": attachment.filename,
            "content": attachment.content,
            "media_type": attachment.media_type,
        }
    return data


def _profile_to_dict(profile: PersonProfile) -> dict[str, Any]:
    return {
        "heading": profile.heading,
        "short": [[label, value] for label, value in profile.short],
        "more": [[label, value] for label, value in profile.more],
    }


def _profile_from_dict(data: dict[str, Any]) -> PersonProfile:
    return PersonProfile(
        heading=data["heading"],
        short=tuple((label, value) for label, value in data["short"]),
        more=tuple((label, value) for label, value in data.get("more", ())),
    )


def reply_from_dict(data: dict[str, Any]) -> Reply:
    """The reply :func:`reply_to_dict` stored."""
    prompt = data.get("prompt")
    return Reply(
        text=data["text"],
        title=data.get("title"),
        fields=tuple((label, value) for label, value in data.get("fields", ())),
        prompt=Prompt(
            kind=PromptKind(prompt["kind"]),
            options=tuple(Option(**o) for o in prompt.get("options", ())),
            min=prompt.get("min"),
            max=prompt.get("max"),
            optional=prompt.get("optional", False),
            label=prompt.get("label", ""),
            token=prompt.get("token", ""),
        )
        if prompt
        else None,
        hint=data.get("hint"),
        actions=tuple(Option(**o) for o in data.get("actions", ())),
        profiles=tuple(_profile_from_dict(p) for p in data.get("profiles", ())),
        counted=tuple(_piece_from_dict(p) for p in data.get("counted", ())),
        attachment=Attachment(**data["attachment"]) if data.get("attachment") else None,
    )


def noun(count: int, word: str, *, many: str | None = None) -> str:
    """The noun for ``count`` things: ``session`` for one, else ``sessions`` (or ``many``)."""
    if count == 1:
        return word
    return many if many is not None else f"{word}s"


def plural(count: int, word: str, *, many: str | None = None) -> str:
    """``1 session``, ``3 sessions``; ``1 person``, ``2 people`` with ``many="people"``."""
    return f"{count} {noun(count, word, many=many)}"


def every(count: int, word: str, *, many: str | None = None) -> str:
    """All ``count`` of something: ``the only member``, ``both members``, ``all 3 members``."""
    if count == 1:
        return f"the only {word}"
    if count == 2:
        return f"both {noun(count, word, many=many)}"
    return f"all {plural(count, word, many=many)}"
