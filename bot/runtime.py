"""The composition root: what a running bot holds, and how it is wired from its settings.

``mentorbot serve`` (bot.server), the program-file reload (bot.reload) and the tests build
one :class:`Runtime` with :func:`build_runtime`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.metrics import Metrics
from bot.slack.app import SlackChannel
from bot.slack.sender import SlackSender
from bot.slack.settings import SlackSettings
from bot.teams.app import TeamsChannel
from bot.teams.sender import TeamsSender
from bot.teams.settings import TeamsSettings
from handlers import Clock, Engine, Programs, Sender, Summarizer, SystemClock, build_engine
from scheduler.outbox import OutboxWorker
from storage import Database


@dataclass
class Runtime:
    """Everything a running bot holds: the composition root's product."""

    programs: Programs
    database: Database
    engine: Engine
    clock: Clock
    metrics: Metrics
    worker: OutboxWorker
    slack: SlackChannel | None = None
    teams: TeamsChannel | None = None
    #: The model for summaries of session notes; None when they are off.
    summarizer: Summarizer | None = None


def build_runtime(
    *,
    programs: Programs,
    database: Database,
    slack: SlackSettings | None,
    teams: TeamsSettings | None = None,
    clock: Clock | None = None,
    sender_sleep: Callable[[float], Awaitable[None]] | None = None,
    teams_options: dict[str, Any] | None = None,
    summarizer: Summarizer | None = None,
    public_url: str | None = None,
) -> Runtime:
    """Wire the engine, the channels that are configured, and the outbox worker.

    Args:
        programs: The programs of the program file.
        database: The database.
        slack: Slack settings, or None for Slack off.
        teams: Teams settings, or None for Teams off.
        clock: Where time comes from.
        sender_sleep: Replaces asyncio.sleep in senders (tests).
        teams_options: Extra TeamsChannel arguments (tests: credentials, sleep).
        summarizer: The model for summaries of session notes, or None for summaries off.
        public_url: The bot's public base URL (calendar feed links), or None.
    """
    clock = clock or SystemClock()
    engine = build_engine(
        programs=programs,
        database=database,
        clock=clock,
        summaries=summarizer is not None,
        public_url=public_url,
    )
    senders: list[Sender] = []
    channel = None
    if slack is not None:
        channel = SlackChannel(settings=slack, engine=engine, database=database)
        extra: dict[str, Any] = {"sleep": sender_sleep} if sender_sleep else {}
        senders.append(SlackSender(client=channel.client, database=database, clock=clock, **extra))
    teams_channel = None
    if teams is not None:
        teams_channel = TeamsChannel(
            settings=teams, engine=engine, database=database, **(teams_options or {})
        )
        senders.append(TeamsSender(teams_channel, clock=clock))
    worker = OutboxWorker(database=database, senders=senders, clock=clock)
    return Runtime(
        programs, database, engine, clock, Metrics(), worker, channel, teams_channel, summarizer
    )
