"""The Teams app package ``mentorbot teams-manifest`` writes: manifest.json and two icons."""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable
from typing import Any

MANIFEST_VERSION = "1.16"
SCHEMA = f"https://developer.microsoft.com/en-us/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
ACCENT = (0x1F, 0x4E, 0x79)

Pixel = tuple[int, int, int, int]

#: The commands Teams suggests in the compose box (it takes at most 10), in this order:
#: what a mentee or mentor starts on their own, most used first. ``schedule`` is a main
#: action even though its "Find a time" button also runs it. Left out, and working when
#: typed all the same: ``resume`` (a pause says to type it), ``my-data``, ``calendar`` and
#: ``cancel-meeting`` (help lists them), the leads' commands and the words behind buttons.
SUGGESTED = (
    "help",
    "join",
    "status",
    "schedule",
    "plan",
    "log",
    "feedback",
    "move-meeting",
    "pause",
    "leave",
)
#: The most commands a Teams command list holds.
MOST_COMMANDS = 10


class ManifestError(ValueError):
    """The package cannot be built as asked; the message says why."""


def png(size: int, pixel: Callable[[int, int], Pixel]) -> bytes:
    """A PNG image (RGBA) whose pixels come from ``pixel(x, y)``."""
    rows = b"".join(
        b"\x00" + b"".join(struct.pack("4B", *pixel(x, y)) for x in range(size))
        for y in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def color_icon() -> bytes:
    """192x192: two linked circles (mentor and mentee) on the accent colour."""

    def pixel(x: int, y: int) -> Pixel:
        for cx in (0.38, 0.62):
            d = (((x / 191) - cx) ** 2 + ((y / 191) - 0.5) ** 2) ** 0.5
            if 0.15 <= d <= 0.2:
                return (255, 255, 255, 255)
        return (*ACCENT, 255)

    return png(192, pixel)


def outline_icon() -> bytes:
    """32x32: the same mark, white on transparent, as Teams requires."""

    def pixel(x: int, y: int) -> Pixel:
        for cx in (0.38, 0.62):
            d = (((x / 31) - cx) ** 2 + ((y / 31) - 0.5) ** 2) ** 0.5
            if 0.14 <= d <= 0.22:
                return (255, 255, 255, 255)
        return (0, 0, 0, 0)

    return png(32, pixel)


def suggested(commands: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (name, summary) pairs of :data:`SUGGESTED`, in its order, from the bot's commands.

    Raises:
        ManifestError: a suggested command is not among ``commands`` (renamed or removed).
    """
    summaries = dict(commands)
    missing = [name for name in SUGGESTED if name not in summaries]
    if missing:
        raise ManifestError(f"the Teams command list names unknown commands: {', '.join(missing)}")
    return [(name, summaries[name]) for name in SUGGESTED]


def teams_manifest(
    *, bot_id: str, name: str, program_name: str, commands: list[tuple[str, str]], website: str
) -> dict[str, Any]:
    """manifest.json for a personal-scope bot.

    Raises:
        ManifestError: the bot id is not a GUID, or the website is not https.
    """
    if not GUID.match(bot_id):
        raise ManifestError(
            f"{bot_id!r} is not an app id; use the Microsoft App ID (a GUID) of your Azure Bot"
        )
    if not website.startswith("https://"):
        raise ManifestError(
            f"{website!r} must be an https URL (Teams shows it as the developer's site)"
        )
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": "1.0.0",
        "id": bot_id,
        "developer": {
            "name": name,
            "websiteUrl": website,
            "privacyUrl": website,
            "termsOfUseUrl": website,
        },
        "name": {"short": name[:30], "full": f"{name}: {program_name}"[:100]},
        "description": {
            "short": "Your company's mentorship program, in Teams."[:80],
            "full": (
                f"{program_name}. Enroll as a mentee or a mentor, get matched, plan your 90 days, "
                "and get reminders for check-ins, all in a chat with the bot."
            )[:4000],
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": bot_id,
                "scopes": ["personal"],
                "supportsFiles": True,
                "isNotificationOnly": False,
                "commandLists": [
                    {
                        "scopes": ["personal"],
                        "commands": [
                            {"title": title[:32], "description": description[:128]}
                            for title, description in commands[:MOST_COMMANDS]
                        ],
                    }
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [],
    }


def app_package(manifest: dict[str, Any]) -> bytes:
    """The zip Teams uploads: manifest.json, color.png and outline.png at its root."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2))
        package.writestr("color.png", color_icon())
        package.writestr("outline.png", outline_icon())
    return buffer.getvalue()
