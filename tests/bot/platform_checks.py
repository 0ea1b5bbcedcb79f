"""Each platform's own checks of a payload: Slack's Block Kit models and limits, the Adaptive
Card schema and what Teams' renderer asks of inputs.

The limits, and where each platform documents them, are listed in the docstring of
tests/bot/test_platform_payloads.py, which runs these checks on every message the bot
sends; :func:`slack_problems` and :func:`card_problems` return what is wrong, in words
that name the place and the limit.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft6Validator
from jsonschema.exceptions import ValidationError, best_match
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.basic_objects import JsonObject
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.teams.cards import CARD_BUDGET

SCHEMAS = Path(__file__).resolve().parents[1] / "fixtures" / "adaptive_cards"
#: Markup a person might type (tests.bot.payload_corpus.TYPED holds each piece): in mrkdwn
#: it would show bold, italic, struck, as code, or notify people.
TYPED_MARKUP = ("*not*", "_x_", "~y~", "`z`", "<!channel>", "<@U123>")


@dataclass(frozen=True)
class Payload:
    """One thing sent to a platform: what it is, and its JSON."""

    what: str
    body: dict[str, Any]


# -- Slack: the checks --------------------------------------------------------------------------

#: (type of the object, key) → most characters of its text.
SLACK_TEXT_LIMITS = {
    ("section", "text"): 3000,
    ("section", "fields"): 2000,
    ("header", "text"): 150,
    ("button", "text"): 75,
    ("button", "value"): 2000,
    ("button", "url"): 3000,
    ("option", "text"): 75,
    ("option", "value"): 150,
    ("option", "description"): 75,
    ("input", "label"): 2000,
    ("input", "hint"): 2000,
    ("*", "placeholder"): 150,
    ("*", "action_id"): 255,
    ("*", "block_id"): 255,
}
#: (type of the object, key) → most items in that list.
SLACK_COUNT_LIMITS = {
    ("section", "fields"): 10,
    ("context", "elements"): 10,
    ("actions", "elements"): 25,
    ("static_select", "options"): 100,
    ("multi_static_select", "options"): 100,
    ("checkboxes", "options"): 10,
    ("radio_buttons", "options"): 10,
    ("overflow", "options"): 5,
    ("table", "rows"): 100,
}
#: Most blocks in a message and in a modal or Home tab; most characters of a message's text.
MESSAGE_BLOCKS, VIEW_BLOCKS, FALLBACK = 50, 100, 4000
VIEW_TEXT_LIMITS = {"title": 24, "submit": 24, "close": 24}
#: The keys whose items are option objects.
OPTION_KEYS = ("options", "initial_options", "initial_option")


def _text_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return str(value["text"])
    return None


def _slack_limits(node: Any, path: str, problems: list[str], kind: str = "") -> None:
    """Slack's documented limits, checked on the JSON (see the module docstring)."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            _slack_limits(item, f"{path}[{i}]", problems, kind)
        return
    if not isinstance(node, dict):
        return
    kind = str(node.get("type", kind))
    for key, value in node.items():
        where = f"{path}.{key}"
        texts = value if isinstance(value, list) and key == "fields" else [value]
        for limit in (SLACK_TEXT_LIMITS.get((kind, key)), SLACK_TEXT_LIMITS.get(("*", key))):
            for text in (_text_of(item) for item in texts if limit is not None):
                if text is not None and limit is not None and len(text) > limit:
                    problems.append(f"{where}: {len(text)} characters, Slack takes {limit}")
        count = SLACK_COUNT_LIMITS.get((kind, key))
        if count is not None and isinstance(value, list) and len(value) > count:
            problems.append(f"{where}: {len(value)} items, Slack takes {count}")
        if key == "rows" and kind == "table":
            for i, row in enumerate(value):
                if len(row) > 20:
                    problems.append(f"{where}[{i}]: {len(row)} cells, Slack takes 20")
        if key == "max_length" and kind == "plain_text_input" and value > 3000:
            problems.append(f"{where}: {value}, Slack takes 3000")
        if key == "elements" and isinstance(value, list):
            ids = [e.get("action_id") for e in value if isinstance(e, dict) and "action_id" in e]
            if len(ids) != len(set(ids)):
                problems.append(f"{where}: an action_id is used twice in one block")
        child_kind = "option" if key in OPTION_KEYS else kind
        _slack_limits(value, where, problems, child_kind)


def _validate_models(obj: Any, seen: set[int]) -> None:
    """Run ``validate_json`` on every slack_sdk model object reachable from ``obj``."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, JsonObject):
        obj.validate_json()
        for value in vars(obj).values():
            _validate_models(value, seen)
    elif isinstance(obj, list | tuple):
        for item in obj:
            _validate_models(item, seen)


class _Ignored(logging.Handler):
    """Collects slack_sdk's notes that a constructor ignored keys it does not know."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.keys: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "were ignored" in record.getMessage():
            self.keys.append(record.getMessage().split("!!! ", 1)[-1].split(" were ignored")[0])


def _block_problems(block: dict[str, Any], where: str) -> list[str]:
    """What slack_sdk's Block Kit models say of one block."""
    ignored = _Ignored()
    models = logging.getLogger("slack_sdk.models")
    models.addHandler(ignored)
    level = models.level
    models.setLevel(logging.DEBUG)
    try:
        parsed = Block.parse(block)
        if parsed is None:
            return [f"{where}: slack_sdk knows no block of type {block.get('type')!r}"]
        _validate_models(parsed, set())
        read_back = parsed.to_dict()
    except SlackObjectFormationError as error:
        return [f"{where}: {error}"]
    finally:
        models.removeHandler(ignored)
        models.setLevel(level)
    problems = [f"{where}: slack_sdk ignored {keys}" for keys in ignored.keys]
    if read_back != block:
        problems.append(f"{where}: slack_sdk reads it back differently: {read_back}")
    return problems


def _typed_text_problems(body: dict[str, Any]) -> list[str]:
    """Typed text never in mrkdwn (outside a code block), and the fallback text escaped."""
    problems = []
    for text in _mrkdwn_texts(body.get("blocks", [])):
        outside_code = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
        problems.extend(
            f"mrkdwn {text[:80]!r} holds typed {piece!r}"
            for piece in TYPED_MARKUP
            if piece in outside_code
        )
    fallback = body.get("text")
    if isinstance(fallback, str) and (
        "<" in fallback or ">" in fallback or re.search(r"&(?!amp;|lt;|gt;)", fallback)
    ):
        problems.append(f"text {fallback[:80]!r}: &, < and > must be escaped")
    return problems


def _mrkdwn_texts(node: Any) -> Iterator[str]:
    if isinstance(node, list):
        for item in node:
            yield from _mrkdwn_texts(item)
    elif isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            yield node["text"]
        for value in node.values():
            yield from _mrkdwn_texts(value)


def slack_problems(payload: Payload) -> list[str]:
    """Everything Slack would refuse or show wrongly in one payload."""
    body = payload.body
    blocks = body.get("blocks", [])
    problems: list[str] = []
    is_view = body.get("type") in ("modal", "home")
    most = VIEW_BLOCKS if is_view else MESSAGE_BLOCKS
    if len(blocks) > most:
        problems.append(f"{len(blocks)} blocks, Slack takes {most}")
    if is_view:
        try:
            View(**body).validate_json()
        except SlackObjectFormationError as error:
            problems.append(f"view: {error}")
        for key, limit in VIEW_TEXT_LIMITS.items():
            text = _text_of(body.get(key))
            if text is not None and len(text) > limit:
                problems.append(f"view {key}: {len(text)} characters, Slack takes {limit}")
        if len(body.get("private_metadata", "")) > 3000:
            problems.append("view private_metadata: over 3000 characters")
        if len(body.get("callback_id", "")) > 255:
            problems.append("view callback_id: over 255 characters")
    else:
        text = body.get("text", "")
        if not text or len(text) > FALLBACK:
            problems.append(f"text: {len(text)} characters; Slack wants 1 to {FALLBACK}")
    ids = [b["block_id"] for b in blocks if "block_id" in b]
    if len(ids) != len(set(ids)):
        problems.append("a block_id is used twice")
    for i, block in enumerate(blocks):
        problems.extend(_block_problems(block, f"blocks[{i}]"))
    _slack_limits(blocks, "blocks", problems)
    problems.extend(_typed_text_problems(body))
    return problems


# -- Teams: the checks ---------------------------------------------------------------------------

#: What a card may carry besides the schema: Teams' own extension, full width for a report
#: card's tables (why it is kept: see tests/bot/test_platform_payloads.py's docstring).
TEAMS_EXTENSION = {"msteams": {"width": "Full"}}


@cache
def card_validator(version: str, definition: str = "AdaptiveCard") -> Draft6Validator | None:
    """A validator of the vendored schema for a card version ("1.5" reads 1.5.0).

    Args:
        version: The version a card declares.
        definition: What to validate: a whole card, or (``ImplementationsOf.Element``) one
            element of a card's body, as the card's schema validates each of them.
    """
    path = SCHEMAS / f"{version}.0" / "adaptive-card.json"
    if not path.exists():
        return None
    schema = json.loads(path.read_text())
    # The schema's root is anyOf [AdaptiveCard]; validating AdaptiveCard itself gives
    # errors that name the property at fault instead of "not valid under any".
    root = {key: value for key, value in schema.items() if key != "anyOf"}
    root["$ref"] = f"#/definitions/{definition}"
    Draft6Validator.check_schema(root)
    return Draft6Validator(root, format_checker=Draft6Validator.FORMAT_CHECKER)


@cache
def _element_error(version: str, element: str, where: str) -> str | None:
    """The schema's complaint about one body element (given as JSON), if any.

    Cards repeat elements (a report's tables in each of its variants, on each database),
    and an element's anyOf of every element type is most of the schema's work: each
    distinct element is checked once.
    """
    validator = card_validator(version, "ImplementationsOf.Element")
    assert validator is not None
    error = best_match(validator.iter_errors(json.loads(element)))
    return None if error is None else _explained(error, at=where)


def _schema_problems(card: dict[str, Any], version: str) -> list[str]:
    """The schema's complaints: the card without its body, then each body element."""
    validator = card_validator(version)
    assert validator is not None
    problems = []
    errors = list(validator.iter_errors({**card, "body": []}))
    if errors:
        problems.append(f"schema {version}: {_explained(best_match(errors))}")
    for i, element in enumerate(card.get("body", [])):
        error = _element_error(version, json.dumps(element, sort_keys=True), f"body/{i}")
        if error is not None:
            problems.append(f"schema {version}: {error}")
    return problems


def _branch_type(schema: dict[str, Any]) -> str:
    """The element type one branch of an ``anyOf`` of element types stands for."""
    refs = [schema.get("$ref", ""), *(s.get("$ref", "") for s in schema.get("allOf", []))]
    return next((r.rsplit("/", 1)[-1] for r in refs if r), "")


def _explained(error: ValidationError, *, at: str = "") -> str:
    """A schema error at the element at fault, not at the ``anyOf`` of all element types."""
    while error.validator == "anyOf" and isinstance(error.instance, dict) and error.context:
        kind = error.instance.get("type")
        branch = [
            e
            for e in error.context
            if _branch_type(error.validator_value[e.schema_path[0]]) == kind
        ]
        if not branch:
            break
        error = best_match(branch)
    where = "/".join([at, *(str(p) for p in error.absolute_path)]).strip("/") or "card"
    return f"{where}: {error.message[:300]}"


def _elements(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for item in node:
            yield from _elements(item)
    elif isinstance(node, dict):
        if "type" in node:
            yield node
        for key, value in node.items():
            if key != "data":
                yield from _elements(value)


def _input_problems(card: dict[str, Any]) -> list[str]:
    """What the adaptivecards renderer asks of inputs, and what people need of them."""
    problems = []
    inputs = [e for e in _elements(card.get("body", [])) if str(e["type"]).startswith("Input.")]
    ids = [e.get("id") for e in inputs]
    if len(ids) != len(set(ids)):
        problems.append(f"input ids used twice: {ids}")
    for element in inputs:
        name = f"{element['type']} {element.get('id')!r}"
        if not str(element.get("label", "")).strip():
            problems.append(f"{name}: no label (RequiredInputsShouldHaveLabel)")
        if element.get("isRequired") and not str(element.get("errorMessage", "")).strip():
            problems.append(
                f"{name}: required, no errorMessage (RequiredInputsShouldHaveErrorMessage)"
            )
        compact = element["type"] == "Input.ChoiceSet" and element.get("style") != "expanded"
        if compact and not element.get("isMultiSelect") and not element.get("placeholder"):
            problems.append(f"{name}: a compact choice with no placeholder")
    return problems


def _line_problems(card: dict[str, Any]) -> list[str]:
    """Lines that Teams' Markdown would run into one paragraph (a single newline)."""
    texts = []
    for element in _elements(card.get("body", [])):
        if element["type"] == "TextBlock":
            texts.append(element.get("text", ""))
        elif element["type"] == "FactSet":
            texts.extend(t for f in element.get("facts", []) for t in (f["title"], f["value"]))
    return [
        f"{text[:80]!r} has lines Teams joins into one"
        for text in texts
        if re.search(r"(?<!\n)\n(?!\n)", text)
    ]


def card_problems(payload: Payload) -> list[str]:
    """Everything the schema, the renderer or a reader would find wrong with one card."""
    card = dict(payload.body)
    problems: list[str] = []
    for key, allowed in TEAMS_EXTENSION.items():
        if key in card and card.pop(key) != allowed:
            problems.append(f"{key}: only {allowed} is expected")
    version = str(card.get("version"))
    if card_validator(version) is None:
        return [f"declares version {version!r}, and no schema of it is vendored"]
    problems.extend(_schema_problems(card, version))
    if not card.get("fallbackText"):
        problems.append("no fallbackText for clients without cards")
    images = sum(
        len(e["url"])
        for e in card.get("body", [])
        if e.get("type") == "Image" and str(e.get("url", "")).startswith("data:")
    )
    size = len(json.dumps(card, ensure_ascii=False)) - images
    if size > CARD_BUDGET:
        problems.append(f"{size} characters, over the budget for Teams' message size")
    problems.extend(_input_problems(card))
    problems.extend(_line_problems(card))
    return problems
