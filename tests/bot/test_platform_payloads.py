"""Every message mentorbot sends, checked with each platform's own models and schemas.

The messages come from a walk of a whole program through the engine
(:mod:`tests.bot.payload_corpus`): every intake question type and its confirmation, the
lead's review, proposals, the kickoff, the plan, nudges, reviews, survey invitations,
whole forms, lead alerts, every report (with and without a chart), my-data, errors and
each person's overview. Each is rendered by the functions the senders and channel edges
call, for both platforms, and then checked:

Slack (Block Kit)
    Each block is read by slack_sdk's own models (``Block.parse``; an unknown type, an
    ignored key or a different reading back is a failure) and every model object in it
    runs ``validate_json()``. Then Slack's documented limits, checked here directly so a
    limit holds even where slack_sdk has no validator for it:

    - a message holds at most 50 blocks, a modal or Home tab 100
      (https://docs.slack.dev/reference/block-kit/blocks,
      https://docs.slack.dev/surfaces/modals/, https://docs.slack.dev/surfaces/app-home/);
    - a message's ``text`` is what notifications and screen readers show; Slack
      truncates it at 40,000 characters and advises staying under 4,000
      (https://docs.slack.dev/reference/methods/chat.postMessage); it is mrkdwn, so
      ``&``, ``<`` and ``>`` must be escaped
      (https://docs.slack.dev/messaging/formatting-message-text/);
    - section: ``text`` up to 3,000 characters, up to 10 ``fields`` of up to 2,000 each;
      header: up to 150; context: up to 10 elements; actions: up to 25 elements; a
      ``block_id`` up to 255 characters and unique in its message or view
      (https://docs.slack.dev/reference/block-kit/blocks/section-block, .../header-block,
      .../context-block, .../actions-block);
    - button: ``text`` up to 75, ``value`` up to 2,000, ``url`` up to 3,000; every
      ``action_id`` up to 255 and unique in its block
      (https://docs.slack.dev/reference/block-kit/block-elements/button-element/);
    - option: ``text`` up to 75, ``value`` up to 150, ``description`` up to 75; a static
      select up to 100 options, checkboxes and radio buttons up to 10, an overflow menu
      up to 5; a ``placeholder`` up to 150
      (https://docs.slack.dev/reference/block-kit/composition-objects/option-object and
      the pages of those elements under .../block-kit/block-elements/);
    - input: ``label`` and ``hint`` up to 2,000; a plain-text input's ``max_length`` up to
      3,000 (https://docs.slack.dev/reference/block-kit/blocks/input-block);
    - table: up to 100 rows of up to 20 cells
      (https://docs.slack.dev/reference/block-kit/blocks/table-block);
    - view: ``title``, ``submit`` and ``close`` up to 24 characters, ``private_metadata``
      up to 3,000, ``callback_id`` up to 255 (https://docs.slack.dev/reference/views/).

    Text a person typed never reaches mrkdwn, where ``*not*`` would show bold.

Teams (Adaptive Cards)
    Each card is validated against the official JSON schema of the version it declares,
    vendored unchanged in tests/fixtures/adaptive_cards (see its README). One exception
    is made, and only it: ``msteams: {"width": "Full"}``, which mentorbot sets on report
    cards. It is Teams' own extension ("Full width Adaptive Card",
    https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/cards-format),
    not part of the Adaptive Card schema, whose ``AdaptiveCard`` allows no property it
    does not list; report tables need the whole width of the conversation, and nothing
    shows that Teams draws them well without it, so it is kept, and taken off before the
    schema check (any other value, or any other extra property, fails). Then what the official ``adaptivecards``
    renderer asks of inputs (its validation events RequiredInputsShouldHaveLabel and
    RequiredInputsShouldHaveErrorMessage): every input has a ``label`` and every
    required input an ``errorMessage``; input ids are unique; a compact single choice
    has a placeholder. And every line of text shows as its own line: Teams reads a
    TextBlock as Markdown, where a single newline joins two lines into one paragraph
    (Teams asks for ``\n\n``; "Newlines for Adaptive Cards", on the same page).

A change that breaks a limit fails here; the last tests show the checks themselves catch
each kind of break.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from functools import cache
from typing import Any

import pytest

from bot import charts
from bot.slack import blocks as slack_blocks
from bot.slack.app import OUTDATED_FORM
from bot.teams import app as teams_app
from bot.teams.cards import answered_card, card_activity
from handlers.core.figures import Chart
from handlers.core.messages import Reply
from handlers.reports.catalogue import CATALOGUE
from storage import Database, Role
from tests.bot.payload_corpus import TYPED, Corpus, build_corpus
from tests.bot.platform_checks import Payload, card_problems, slack_problems

#: A chart for reports that have none, to render each report with one too.
SAMPLE_CHART = Chart(
    "line",
    "Sessions per active pair, by month",
    ("2026-09", "2026-10", "2026-11"),
    (("sessions per pair", (0.5, 1.0, 1.5)),),
    "sessions per pair",
)


# -- the corpus: built once for each database ------------------------------------------------

_built: dict[str, Corpus] = {}


@pytest.fixture
async def corpus(database: Database) -> Corpus:
    """Every message of one walk through the program (on this database's backend)."""
    backend = database.url.split(":", 1)[0]
    if backend not in _built:
        _built[backend] = await build_corpus(database)
    return _built[backend]


def _typed_replies(corpus: Corpus) -> Iterator[tuple[str, list[Reply]]]:
    for sent in corpus.sent:
        yield sent.kind, list(sent.replies)


# -- Slack: what the edges send ----------------------------------------------------------------


def slack_payloads(corpus: Corpus) -> list[Payload]:
    """Every message, modal and Home tab the Slack edge sends for the corpus."""
    payloads: list[Payload] = []
    for kind, replies in _typed_replies(corpus):
        text, blocks = slack_blocks.render_message(replies)
        payloads.append(Payload(f"message: {kind}", {"text": text, "blocks": blocks}))
        for reply in replies:
            if reply.prompt is not None and reply.prompt.options:
                chosen = reply.prompt.options[0].label
                answered = slack_blocks.answered(blocks, chosen)
                payloads.append(Payload(f"answered: {kind}", {"text": text, "blocks": answered}))
            if reply.form is not None:
                view = slack_blocks.form_modal(reply.form)
                payloads.append(Payload(f"modal: {kind}", view))
            for profile in reply.profiles:
                # What its "More about NAME" button opens.
                view = slack_blocks.profile_modal(slack_blocks.more_value(profile))
                payloads.append(Payload(f"profile modal: {kind}", view))
    for home in corpus.homes:
        # As bot.slack.app's app_home_opened listener publishes it.
        _, blocks = slack_blocks.render_message(list(home.replies))
        payloads.append(Payload(f"home: {home.kind}", {"type": "home", "blocks": blocks}))
    program = corpus.program
    roles = [r.value for r in program.roles]
    for role in program.roles:
        for answers in ({}, corpus.answers.get(role.value, {})):
            view = slack_blocks.intake_modal(
                ref=f"{program.id}:{role.value}",
                role=role.value,
                questions=program.intake.for_role(Role(role)),
                answers=answers,
                program_name=program.name,
            )
            payloads.append(Payload(f"intake modal: {role.value}", view))
    offer = slack_blocks.form_offer([(f"{program.id}:{role}", role) for role in roles])
    payloads.append(Payload("the slash command's form offer", {"text": "x", "blocks": offer}))
    payloads.append(Payload("notice modal", slack_blocks.notice_modal("Form", OUTDATED_FORM)))
    return payloads


# -- Teams: what the edges send -----------------------------------------------------------------


@cache
def _drawn(chart: Chart) -> bytes | None:
    return charts.render_png(chart)


def _report_variants(kind: str, replies: list[Reply]) -> Iterator[tuple[str, list[Reply], Any]]:
    """A report as it is, with a chart drawn, with a chart that could not be drawn, without."""
    [report] = [r.report for r in replies if r.report is not None]
    chart = report.chart or SAMPLE_CHART
    with_chart = [
        replace(r, report=replace(report, chart=chart)) if r.report else r for r in replies
    ]
    without = [replace(r, report=replace(report, chart=None)) if r.report else r for r in replies]
    yield f"{kind} (with a chart)", with_chart, {chart: _drawn(chart)}
    yield f"{kind} (a chart that could not be drawn)", with_chart, {chart: None}
    yield f"{kind} (without a chart)", without, {}


def teams_cards(corpus: Corpus) -> list[Payload]:
    """Every Adaptive Card the Teams edge sends for the corpus."""
    cards: list[Payload] = []

    def add(what: str, replies: list[Reply], pictures: Any = None) -> None:
        activity = card_activity(replies, pictures=pictures)
        [attachment] = activity.attachments
        cards.append(Payload(what, attachment.content))

    for kind, replies in _typed_replies(corpus):
        if any(r.report is not None for r in replies):
            for what, variant, pictures in _report_variants(kind, replies):
                add(what, variant, pictures)
            continue
        add(kind, replies)
        for reply in replies:
            if reply.prompt is not None and reply.prompt.options:
                chosen = reply.prompt.options[0].label
                cards.append(Payload(f"answered: {kind}", answered_card(reply.text[:300], chosen)))
    for message in (teams_app.OUTDATED_FORM, teams_app.NO_OFFER, teams_app.not_uploaded()):
        add(f"notice: {message[:40]}", [Reply(message)])
    return cards


# -- the tests ------------------------------------------------------------------------------------


def _report(problems: dict[str, list[str]]) -> str:
    return "\n".join(f"{what}:\n  " + "\n  ".join(found) for what, found in problems.items())


def test_the_corpus_holds_every_kind_of_message(corpus: Corpus) -> None:
    """If a flow stops reaching a kind of message, the checks below would miss it: say so."""
    replies = [r for s in corpus.sent for r in s.replies]
    texts = "\n".join(f"{r.title or ''}\n{r.text}" for r in replies)
    prompts = {r.prompt.kind.value for r in replies if r.prompt is not None}
    assert prompts >= {"single", "multi", "text", "number"}, prompts
    counts = {len(r.prompt.options) for r in replies if r.prompt is not None}
    assert max(counts) > 10  # a multi-select, and a select (over 5 options)
    assert any(5 < count <= 10 for count in counts)
    reports = {r.report.kind for r in replies if r.report is not None}
    assert reports == set(CATALOGUE.kinds), reports
    assert {name for _, form in corpus.forms for name in [form.name]} >= {"log", "feedback"}
    assert any(r.attachment is not None for r in replies)  # my-data
    assert any(len(r.profiles) == 2 for r in replies)  # the kickoff, side by side
    for expected in (
        "Question 1 of",  # the intake
        "Here is what you told me",  # its confirmation
        "Proposals to review",
        "A mentee for you",
        "Your mentor proposal",
        "Meet your mentoring partner",  # the kickoff
        "Your 90-day plan",
        "Check-in with",  # a nudge
        "Quarterly review",
        "One month in",  # a survey invitation
        "How did the session go?",
        "A pairing at risk",
        "Your cycle is complete",
        "something went wrong on my side",  # an error
        "out of range",  # a wrong answer
    ):
        assert expected in texts, expected
    assert corpus.homes


def test_every_slack_payload_is_valid_block_kit_within_slacks_limits(corpus: Corpus) -> None:
    payloads = slack_payloads(corpus)
    assert len(payloads) > 150
    found = {p.what: problems for p in payloads if (problems := slack_problems(p))}
    assert not found, _report(found)


def test_every_teams_card_is_valid_against_the_schema_of_its_version(corpus: Corpus) -> None:
    cards = teams_cards(corpus)
    assert len(cards) > 150
    assert {c.body["version"] for c in cards} == {"1.4", "1.5"}
    found = {c.what: problems for c in cards if (problems := card_problems(c))}
    assert not found, _report(found)


# -- the checks themselves catch each kind of break --------------------------------------------

BUTTON = {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "Go"}}


@pytest.mark.parametrize(
    ("blocks", "says"),
    [
        ([{"type": "section", "text": {"type": "plain_text", "text": "x" * 3001}}], "3000"),
        ([{"type": "actions", "elements": [{**BUTTON, "value": "v" * 2001}]}], "2000"),
        ([{"type": "actions", "elements": [{**BUTTON, "action_id": "a" * 256}]}], "255"),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "static_select",
                            "action_id": "s",
                            "options": [
                                {"text": {"type": "plain_text", "text": "o"}, "value": "v" * 151}
                            ],
                        }
                    ],
                }
            ],
            "150",
        ),
        ([{"type": "actions", "elements": [BUTTON, BUTTON]}], "action_id is used twice"),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": TYPED}}], "holds typed"),
        ([{"type": "sectoin", "text": {"type": "plain_text", "text": "x"}}], "no block of type"),
        ([{"type": "divider"}] * 51, "51 blocks"),
    ],
    ids=[
        "section",
        "button-value",
        "action-id",
        "option-value",
        "twice",
        "typed",
        "type",
        "blocks",
    ],
)
def test_the_slack_checks_catch_a_broken_limit(blocks: list[dict[str, Any]], says: str) -> None:
    problems = slack_problems(Payload("probe", {"text": "x", "blocks": blocks}))
    assert any(says in p for p in problems), problems


def test_an_unescaped_fallback_text_is_caught() -> None:
    problems = slack_problems(Payload("probe", {"text": "Hi <!channel> & all", "blocks": []}))
    assert any("must be escaped" in p for p in problems), problems


@pytest.mark.parametrize(
    ("element", "says"),
    [
        ({"type": "TextBlock", "text": "x", "size": "Huge"}, "body/0/size"),
        ({"type": "Table", "columns": [], "rows": []}, "body/0"),  # Tables need 1.5
        ({"type": "Input.Text", "id": "a", "isRequired": True, "errorMessage": "e"}, "no label"),
        ({"type": "Input.Text", "id": "a", "isRequired": True, "label": "A"}, "no errorMessage"),
        (
            {"type": "Input.ChoiceSet", "id": "a", "label": "A", "choices": []},
            "compact choice with no placeholder",
        ),
        ({"type": "TextBlock", "text": "Why:\n• one\n• two"}, "joins into one"),
    ],
    ids=["enum", "version", "label", "error-message", "placeholder", "lines"],
)
def test_the_card_checks_catch_a_broken_card(element: dict[str, Any], says: str) -> None:
    card = {"type": "AdaptiveCard", "version": "1.4", "body": [element], "fallbackText": "x"}
    problems = card_problems(Payload("probe", card))
    assert any(says in p for p in problems), problems


def test_only_the_full_width_extension_is_excepted_from_the_schema() -> None:
    card = {"type": "AdaptiveCard", "version": "1.5", "body": [], "fallbackText": "x"}
    assert card_problems(Payload("probe", {**card, "msteams": {"width": "Full"}})) == []
    assert card_problems(Payload("probe", {**card, "msteams": {"width": "Wide"}}))
    assert card_problems(Payload("probe", {**card, "speakk": "x"}))
    assert card_problems(Payload("probe", {**card, "version": "1.7"})) == [
        "declares version '1.7', and no schema of it is vendored"
    ]
