"""What every HTTP route of mentorbot answers when it refuses a request."""

from __future__ import annotations

from aiohttp import web


def problem(status: int, message: str) -> web.Response:
    """A refusal as JSON, the same shape on every route: ``{"ok": false, "error": ...}``.

    Args:
        status: The HTTP status (4xx for the request's fault, 503 for ours).
        message: What is wrong and how to fix it, in one sentence; never a traceback.
    """
    return web.json_response({"ok": False, "error": message}, status=status)
