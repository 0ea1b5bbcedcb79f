"""The HTTP server behind ``mentorbot serve``: its routes, the tick, start and stop.

What it serves is wired in bot.runtime. Routes: ``POST /slack/events`` (every Slack
request kind, bot.slack.http), ``POST /api/messages`` (Teams, bot.teams.http),
``GET /healthz``, ``GET /metrics`` and ``GET /calendar/{token}.ics`` (a person's calendar
feed, bot.feeds). APScheduler runs one periodic tick that delivers
the outbox; the database, not the scheduler, records what is owed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot import feeds
from bot.metrics import Metrics
from bot.reload import POLL_SECONDS, ProgramWatcher
from bot.runtime import Runtime
from bot.slack import http as slack_http
from bot.teams import http as teams_http
from bot.web import problem
from handlers import backlog, count_by_status, log_failure
from scheduler.due import run_due
from scheduler.summaries import summarize_due
from storage import Database

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024


RUNTIME = web.AppKey("runtime", Runtime)
#: How long one health probe's answer is reused (seconds).
HEALTH_SECONDS = 2.0


class HealthProbe:
    """Asks the database whether it can serve turns, at most once per ``HEALTH_SECONDS``.

    /healthz needs no credentials and each probe commits a write; so concurrent requests
    share one probe, and its answer stands for a moment, and flooding /healthz cannot hold
    up people's turns.
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        self._lock = asyncio.Lock()
        self._answer: str | None = None
        self._at: float | None = None

    async def problem(self) -> str | None:
        """Why the database cannot serve turns now, or None when it can."""
        if self._fresh():
            return self._answer
        async with self._lock:
            if not self._fresh():  # another request may have probed while this one waited
                self._answer = await self.database.health()
                self._at = time.monotonic()
            return self._answer

    def _fresh(self) -> bool:
        return self._at is not None and time.monotonic() - self._at < HEALTH_SECONDS


HEALTH = web.AppKey("health", HealthProbe)


def build_web_app(runtime: Runtime) -> web.Application:
    """The aiohttp application."""
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[_measure(runtime.metrics)])
    app[RUNTIME] = runtime
    app[HEALTH] = HealthProbe(runtime.database)
    app.router.add_post("/slack/events", _slack_events)
    app.router.add_post("/api/messages", _teams_messages)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)
    app.router.add_get(feeds.ROUTE, _calendar_feed)
    return app


def _measure(metrics: Metrics) -> Any:
    @web.middleware
    async def middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        route = request.match_info.route.resource
        name = route.canonical if route is not None else "unmatched"
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            metrics.requests.labels(name, str(status)).inc()
            metrics.latency.labels(name).observe(time.perf_counter() - started)

    return middleware


async def _slack_events(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    if runtime.slack is None:
        return problem(404, "Slack is off: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET")
    return await slack_http.handle(request, runtime.slack)


async def _teams_messages(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    if runtime.teams is None:
        return problem(401, "Teams is off: set MicrosoftAppId and MicrosoftAppPassword")
    return await teams_http.handle(request, runtime.teams)


async def _calendar_feed(request: web.Request) -> web.Response:
    return await feeds.calendar_feed(request, request.app[RUNTIME])


async def _healthz(request: web.Request) -> web.Response:
    """200 when the database serves a real read and write; 503 with the reason otherwise."""
    runtime = request.app[RUNTIME]
    problem = await request.app[HEALTH].problem()
    if problem is not None:
        log.warning("healthz: the database cannot serve turns (%s)", problem)
    body = {
        "status": "ok" if problem is None else "unavailable",
        "database": "ok" if problem is None else "unavailable",
        "slack": "on" if runtime.slack else "off",
        "teams": "on" if runtime.teams else "off",
    }
    if problem is not None:
        body["reason"] = problem
    return web.json_response(body, status=200 if problem is None else 503)


async def _metrics(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    try:
        async with runtime.database.session() as session:
            counts = await count_by_status(session)
        runtime.metrics.outbox_backlog.set(backlog(counts))
        for status, count in counts.items():
            runtime.metrics.outbox_messages.labels(status).set(count)
    except Exception:  # the database being down must not hide the other metrics
        log.warning("metrics: could not count the outbox backlog")
    return web.Response(
        body=generate_latest(runtime.metrics.registry),
        headers={"Content-Type": CONTENT_TYPE_LATEST},
    )


async def tick(runtime: Runtime) -> None:
    """One pass of due work (lapsed proposals, ...), then deliver the outbox.

    Summaries of session notes are written alongside the delivery, so a slow model never
    holds up other messages; what they queue goes out on the next tick.
    """
    try:
        due = await run_due(runtime.database, runtime.programs, now=runtime.clock.now())
        if due.total:
            log.info("tick: due work %s", json.dumps(due.as_dict()))
        summaries = asyncio.ensure_future(_summaries(runtime))
        try:
            report = await runtime.worker.run_once()
        finally:
            await summaries  # never raises: it logs its own failure
    except Exception as exc:
        # By type and code location only: a database error can quote a note or answer.
        log_failure(log, "tick failed; the next tick will try again", error=exc)
        return
    for outcome in ("sent", "retried", "failed", "undeliverable"):
        count = getattr(report, outcome)
        if count:
            runtime.metrics.outbox_delivered.labels(outcome).inc(count)
    if report.total:
        log.info("tick: %s", json.dumps(report.__dict__))


async def _summaries(runtime: Runtime) -> None:
    """One pass of summaries, if they are on; a failure waits for the next tick."""
    if runtime.summarizer is None:
        return
    try:
        report = await summarize_due(
            runtime.database,
            runtime.programs,
            summarizer=runtime.summarizer,
            now=runtime.clock.now(),
        )
    except Exception as exc:
        # By class name only: a database error's text carries its parameters (notes).
        log.warning("tick: summaries failed (%s); the next tick will try again", type(exc).__name__)
        return
    if report.total:
        log.info("tick: summaries %s", json.dumps(report.as_dict()))


@contextlib.asynccontextmanager
async def running(
    runtime: Runtime, *, host: str, port: int, tick_seconds: float
) -> AsyncIterator[web.AppRunner]:
    """Serve HTTP and run the tick until the block exits."""
    runner = web.AppRunner(build_web_app(runtime), access_log=None)
    await runner.setup()
    scheduler = AsyncIOScheduler()
    if runtime.slack is not None:
        await runtime.slack.open()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        scheduler.add_job(
            tick,
            "interval",
            args=[runtime],
            seconds=tick_seconds,
            max_instances=1,
            coalesce=True,
            id="tick",
        )
        scheduler.start()
        yield runner
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        await runner.cleanup()
        if runtime.slack is not None:
            await runtime.slack.close()
        if runtime.teams is not None:
            await runtime.teams.close()


class StartupError(Exception):
    """The bot cannot start as configured; the message says what to fix."""


#: Slack's answers to auth.test that no retry will change.
_REFUSED_TOKEN = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
}


async def check_slack(runtime: Runtime) -> None:
    """Ask Slack whether the bot token works, so a bad token stops start-up with a reason.

    Raises:
        StartupError: Slack refused the token.
    """
    if runtime.slack is None:
        return
    from slack_sdk.errors import SlackApiError

    try:
        await runtime.slack.client.auth_test()
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "")
        if error in _REFUSED_TOKEN:
            raise StartupError(
                f"Slack refused SLACK_BOT_TOKEN ({error}); copy the Bot User OAuth Token "
                "(xoxb-...) from the app's OAuth & Permissions page"
            ) from None
        log.warning("slack: auth.test failed (%s); starting anyway", error or exc)
    except (OSError, TimeoutError) as exc:
        log.warning("slack: cannot reach Slack yet (%s); starting anyway", type(exc).__name__)


async def serve_forever(
    runtime: Runtime,
    *,
    host: str,
    port: int,
    tick_seconds: float,
    app_token: str | None,
    program_path: Path | None = None,
) -> None:
    """``mentorbot serve``: run until SIGINT or SIGTERM.

    Args:
        program_path: The program file, re-read when it changes and on SIGHUP (None: never).

    Raises:
        StartupError: Slack refused the bot token.
    """
    await check_slack(runtime)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    watching = None
    if program_path is not None:
        watcher = ProgramWatcher(runtime, program_path)
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signal.SIGHUP, watcher.reload)
        watching = asyncio.ensure_future(_watch(watcher, stop))
    try:
        await _serve_until(
            runtime, stop, host=host, port=port, tick_seconds=tick_seconds, app_token=app_token
        )
    finally:
        if watching is not None:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching


async def _watch(watcher: ProgramWatcher, stop: asyncio.Event) -> None:
    """Look at the program file every few seconds until the bot stops."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), POLL_SECONDS)
        if not stop.is_set():
            watcher.poll()


async def _serve_until(
    runtime: Runtime,
    stop: asyncio.Event,
    *,
    host: str,
    port: int,
    tick_seconds: float,
    app_token: str | None,
) -> None:
    """Serve until ``stop`` is set."""
    async with running(runtime, host=host, port=port, tick_seconds=tick_seconds) as runner:
        socket_mode = None
        if app_token and runtime.slack is not None:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            socket_mode = AsyncSocketModeHandler(runtime.slack.app, app_token)
            # slack_sdk retries a refused connection forever (a revoked app token, Slack
            # down); a stop signal must still end the process.
            if not await _unless_stopped(socket_mode.connect_async(), stop):
                await socket_mode.close_async()
                return
        bound = ", ".join(f"http://{h}:{p}" for h, p in _addresses(runner))
        slack = "socket mode" if socket_mode else ("on" if runtime.slack else "off")
        teams = "off"
        if runtime.teams is not None:
            teams = "on" if runtime.teams.authenticated else "unauthenticated, loopback only"
        print(
            f"mentorbot serving on {bound} (Slack: {slack}; Teams: {teams}); Ctrl-C to stop",
            flush=True,
        )
        await tick(runtime)
        await stop.wait()
        if socket_mode is not None:
            await socket_mode.close_async()


async def _unless_stopped(work: Awaitable[None], stop: asyncio.Event) -> bool:
    """Run ``work`` unless ``stop`` is set first (then cancel it); whether it finished."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not task.done():
            task.cancel()
    if task.done():
        task.result()
        return True
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return False


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _addresses(runner: web.AppRunner) -> list[tuple[str, int]]:
    found = []
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            found.append((str(address[0]), int(address[1])))
    return found
