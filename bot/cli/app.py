"""What every command stands on: the app (programs, database, engine), errors, times."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.config import (
    INSTANT_EXAMPLES,
    Environment,
    load_programs,
    parse_instant,
)
from handlers import (
    Engine,
    NotASelection,
    Program,
    Programs,
    build_engine,
    parse_selection,
)
from storage import Database

if TYPE_CHECKING:
    from bot.summarizer import OpenAISummarizer


class CliError(Exception):
    """A mistake on the command line; the message is what the operator reads."""


@dataclass
class App:
    """What most commands need: the programs, the database and the engine."""

    env: Environment
    programs: Programs
    database: Database
    engine: Engine

    async def lead_or_refuse(
        self, named: str | None, *, lead: str, action: str, target: str
    ) -> Program:
        """The program a lead's action is for; anyone who leads none is audited, then refused.

        Raises:
            CliError: ``lead`` leads no program (the refusal is in the audit log first), or
                :meth:`led_program`'s reasons.
        """
        from handlers import record

        wanted = self.programs.get(named.strip().lower()) if named else None
        leads_it = wanted.is_lead(lead) if wanted is not None else self.programs.is_lead(lead)
        if leads_it:
            return self.led_program(named, lead=lead, verb=action)
        async with self.database.session() as session:
            await record(
                session,
                actor=lead,
                action=action,
                target=target[:200],
                allowed=False,
                now=self.engine.clock.now(),
                detail={"channel": "cli"},
            )
        if wanted is not None and self.programs.is_lead(lead):
            return self.led_program(named, lead=lead, verb=action)  # says which they lead
        raise CliError(
            f"{lead} is not a program lead; {action} is for the program's leads and the "
            "global leads in app.yaml"
        )

    def led_program(self, named: str | None, *, lead: str | None, verb: str) -> Program:
        """The program ``--program`` names, or the only one ``lead`` leads (or the file has).

        Raises:
            CliError: no such program, one the lead does not lead, or several to pick from.
        """
        known = ", ".join(p.id for p in self.programs)
        if named is not None:
            program: Program | None = self.programs.get(named.strip().lower())
            if program is None:
                raise CliError(f"there is no program {named!r}; programs: {known}")
            if lead is not None and not program.is_lead(lead):
                raise CliError(
                    f"{lead} is not a lead of {program.id}; {verb} is for the program's "
                    "leads (leads: in its entry of app.yaml) and the global leads"
                )
            return program
        candidates = list(self.programs) if lead is None else self.programs.led_by(lead)
        if len(candidates) == 1:
            return candidates[0]
        if not candidates and lead is not None:
            raise CliError(
                f"{lead} is not a program lead; {verb} is for the leads listed in app.yaml"
            )
        which = ", ".join(p.id for p in candidates)
        raise CliError(f"several programs; add --program with one of: {which}")


@asynccontextmanager
async def open_app(env: Environment) -> AsyncIterator[App]:
    """Load the program file and open a database whose schema is current."""
    programs = load_programs(env.config_path)
    database = Database(env.database_url)
    try:
        await database.ensure_schema()
        engine = build_engine(
            programs=programs,
            database=database,
            clock=env.clock(),
            summaries=bool(env.openai_api_key),
            public_url=env.public_url,
        )
        yield App(env, programs, database, engine)
    finally:
        await database.dispose()


def summarizer_for(env: Environment) -> OpenAISummarizer | None:
    """The model for summaries of session notes, or None when OPENAI_API_KEY is unset.

    ``openai`` takes most of a second to import, so it is imported only when it is used.
    """
    if not env.openai_api_key:
        return None
    from bot.summarizer import summarizer_from_env

    return summarizer_from_env(env)


def instant(text: str | None, env: Environment) -> datetime:
    """``--now``: an ISO-8601 instant (UTC when no offset is given), or the command's clock."""
    if text is None:
        return env.clock().now()
    moment = parse_instant(text)
    if moment is None:
        raise CliError(f"--now {text!r} is not an ISO-8601 time; write e.g. {INSTANT_EXAMPLES}")
    return moment


def numbers(text: str, count: int) -> list[int]:
    """``--only 1,3,5-7`` as zero-based indexes of the round's proposals."""
    try:
        chosen = parse_selection(text.split(","), count)
    except NotASelection as exc:
        if exc.number is None:
            raise CliError(f"--only {text!r}: list proposal numbers, e.g. --only 1,3,5-7") from None
        raise CliError(
            f"--only: there is no proposal {exc.number}; they go from 1 to {count}"
        ) from None
    return sorted(set(chosen))
