"""MENTORBOT_PUBLIC_URL and MENTORBOT_FILES_DIR are read, and a bad address is refused."""

from __future__ import annotations

import pytest

from bot.config import DEFAULT_FILES_DIR, Environment, SettingsError


def test_the_public_url_loses_its_trailing_slash_and_the_files_dir_has_a_default() -> None:
    env = Environment.from_environ({"MENTORBOT_PUBLIC_URL": "https://bot.example.com/mentor/"})
    assert env.public_url == "https://bot.example.com/mentor"
    assert env.files_dir == DEFAULT_FILES_DIR == "./mentorbot-files"
    assert Environment.from_environ({}).public_url is None
    assert Environment.from_environ({"MENTORBOT_FILES_DIR": "/srv/f"}).files_dir == "/srv/f"


def test_a_public_url_that_is_no_web_address_is_refused_with_an_example() -> None:
    with pytest.raises(SettingsError, match=r"e\.g\. https://mentorbot\.example\.com"):
        Environment.from_environ({"MENTORBOT_PUBLIC_URL": "mentorbot.example.com"})
