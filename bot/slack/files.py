"""Files in a Slack conversation: a report's chart and CSVs, a reply's attachment.

They go after the messages that announce them (bot.slack.app posts those), uploaded with
``files_upload_v2`` (scope ``files:write``) to the same conversation. A chart is drawn off
the event loop as a PNG; the CSV of each table a message could not show whole goes too
(bot.slack.reports lists them; the export's always). If an upload fails, what was posted
stays, the person is told the picture or file could not be attached, and the log names
the file and Slack's error code, never its content.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot import charts
from bot.slack import reports
from handlers import Attachment, Report, log_failure

log = logging.getLogger(__name__)
NO_CHART = "Sorry, I couldn't attach the chart; the figures above are complete."
NO_FILE = "Sorry, I couldn't attach {filename}. Type report {kind} here to try again."


@dataclass(frozen=True)
class _Upload:
    """A file to attach under a report: its bytes and how Slack should show it."""

    data: bytes
    filename: str
    title: str
    #: A line above the file; None when the message above already says what it is.
    comment: str | None
    alt: str | None
    #: What the person is told if the upload fails.
    missing: str


class SlackFiles:
    """Uploads a conversation's files with a Web API client.

    Args:
        client: The Web API client.
    """

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def attach(self, channel: str, attachment: Attachment) -> None:
        """Upload a reply's attachment (a person's data export) as it is."""
        await self._upload(channel, _upload_of_attachment(attachment), "a reply")

    async def attach_report(self, channel: str, report: Report) -> None:
        """Upload a report's chart, if it has one, then the files its messages point to."""
        purpose = f"the {report.kind} report"
        try:
            upload = await _chart_upload(report)
        except Exception as exc:
            log_failure(
                log, "slack: could not draw a report's chart", error=exc, report=report.kind
            )
            await self._not_attached(channel, NO_CHART)
        else:
            if upload is not None:
                await self._upload(channel, upload, purpose)
        for file, comment in reports.report_files(report):
            missing = NO_FILE.format(filename=file.filename, kind=report.kind)
            await self._upload(channel, _upload_of_file(file, comment, missing), purpose)

    async def _upload(self, channel: str, upload: _Upload, purpose: str) -> None:
        """Upload a file to the conversation; the message above it is already posted.

        A failure is logged (the file's name, what it was for and Slack's error code,
        nothing of its content) and the person is told.
        """
        try:
            await self.client.files_upload_v2(
                channel=channel,
                file=upload.data,
                filename=upload.filename,
                title=upload.title,
                initial_comment=upload.comment,
                alt_txt=upload.alt,
            )
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            reason = (
                exc.response.get("error") if isinstance(exc, SlackApiError) else None
            ) or type(exc).__name__
            log.warning("slack: could not upload %s for %s (%s)", upload.filename, purpose, reason)
            await self._not_attached(channel, upload.missing)

    async def _not_attached(self, channel: str, text: str) -> None:
        try:
            await self.client.chat_postMessage(channel=channel, text=text)
        except SlackClientError as exc:
            log.warning("slack: could not say an attachment is missing (%s)", type(exc).__name__)


async def _chart_upload(report: Report) -> _Upload | None:
    """A report's chart drawn as a PNG to upload, or None when it has none to draw."""
    chart = report.chart
    if chart is None:
        return None
    png = await charts.draw(chart)
    if png is None:
        return None
    return _Upload(
        data=png,
        filename=f"{report.kind}.png",
        title=chart.title,
        comment=f"{report.title}: {chart.title}",
        alt=charts.alt_text(chart),
        missing=NO_CHART,
    )


def _upload_of_file(file: Attachment, comment: str, missing: str) -> _Upload:
    """A report's file (a table's CSV, its JSON), with the line that says what it holds."""
    return _Upload(
        data=file.content.encode(),
        filename=file.filename,
        title=file.filename,
        comment=comment,
        alt=None,
        missing=missing,
    )


#: What a person is told when a meeting's invite could not be attached.
NO_INVITE = (
    "Sorry, I couldn't attach the calendar invite {filename}. Type calendar for a private "
    "feed that keeps your mentoring meetings in your calendar."
)


def _upload_of_attachment(attachment: Attachment) -> _Upload:
    """A reply's file, uploaded as it is."""
    if attachment.media_type == "text/calendar":
        missing = NO_INVITE.format(filename=attachment.filename)
    else:
        missing = f"Sorry, I couldn't attach {attachment.filename}. Please ask again in a moment."
    return _Upload(
        data=attachment.content.encode(),
        filename=attachment.filename,
        title=attachment.filename,
        comment=None,
        alt=None,
        missing=missing,
    )
