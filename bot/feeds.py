"""``GET /calendar/{token}.ics``: a person's private calendar feed, for ``serve``.

The handler only converts: the token from the path, the feed from
:func:`handlers.meetings.feed.feed_for_token`, the answer as ``text/calendar``. A token
that is unknown, replaced or malformed gets a bare 404 with an empty body, the same for
every kind of miss, and nothing is logged that names the token (``serve`` keeps no access
log, and the request metrics name the route's pattern, not its path).
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.runtime import Runtime
from handlers import log_failure
from handlers.meetings.feed import feed_for_token

log = logging.getLogger(__name__)
#: The route: the last segment is ``{token}.ics``, checked by the handler, so a malformed
#: one is answered like an unknown one (aiohttp's own 404 would say more).
ROUTE = "/calendar/{name}"
#: Calendar apps poll a feed (Google about twice a day, Outlook every few hours); an hour's
#: reuse is plenty. ``private``: a shared cache must never keep one person's calendar.
FEED_HEADERS = {
    "Cache-Control": "private, max-age=3600",
    "Content-Disposition": 'inline; filename="mentoring.ics"',
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
}
NOT_FOUND_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def not_found() -> web.Response:
    """The answer to every miss: 404, nothing in the body."""
    return web.Response(status=404, headers=NOT_FOUND_HEADERS)


async def calendar_feed(request: web.Request, runtime: Runtime) -> web.Response:
    """The feed of the token in the path, or :func:`not_found`."""
    name = request.match_info.get("name", "")
    if not name.endswith(".ics"):
        return not_found()
    try:
        async with runtime.database.session() as session:
            body = await feed_for_token(
                session,
                programs=runtime.programs,
                token=name.removesuffix(".ics"),
                now=runtime.clock.now(),
            )
    except Exception as exc:
        # By type and place only: the error's text could quote the token's hash.
        log_failure(log, "calendar feed failed", error=exc)
        return web.Response(status=503, headers={"Cache-Control": "no-store", "Retry-After": "60"})
    if body is None:
        return not_found()
    return web.Response(
        body=body.encode(), content_type="text/calendar", charset="utf-8", headers=FEED_HEADERS
    )
