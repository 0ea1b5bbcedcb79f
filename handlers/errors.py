"""A small error hierarchy: one base, one that carries the sentence a person will read."""


class MentorbotError(Exception):
    """Base of mentorbot's own errors."""


class UserError(MentorbotError):
    """A mistake a person can fix; the message is the sentence they will read."""


class InvalidAnswer(UserError):
    """An answer that does not fit the question; the message says what is accepted."""
