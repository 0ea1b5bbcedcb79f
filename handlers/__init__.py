"""What the bot does, platform-neutral: the conversation engine and one module per journey.

handlers/ never imports a platform SDK: channels hand it an :class:`Inbound` and render
the :class:`Reply` objects it returns.
"""

from handlers.commands import build_engine, greeting
from handlers.core.engine import Engine
from handlers.core.errors import InvalidAnswer, MentorbotError, UserError
from handlers.core.messages import Action, Inbound, Option, Prompt, PromptKind, Reply
from handlers.core.program import Program

__all__ = [
    "Action",
    "Engine",
    "Inbound",
    "InvalidAnswer",
    "MentorbotError",
    "Option",
    "Program",
    "Prompt",
    "PromptKind",
    "Reply",
    "UserError",
    "build_engine",
    "greeting",
]
