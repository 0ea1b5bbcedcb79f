"""Reproducible fuzzing: every run uses one seed, printed at the end of the run.

Hypothesis picks a fresh random seed per test unless told otherwise, and only sometimes
says which. Here a run without ``--hypothesis-seed`` picks one seed
(``MENTORBOT_FUZZ_SEED`` or a random one) for every fuzz test, and the summary prints the
command line that replays it. Under pytest-xdist the seed is chosen once, before the
workers start, and handed to them in ``MENTORBOT_FUZZ_SEED``, so every worker uses it.

A plugin (tests/conftest.py names it in ``pytest_plugins``) rather than tests/fuzz's
conftest: xdist's controller never collects tests/fuzz, and it is the one that must choose
the seed and print it.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from hypothesis import seed as hypothesis_seed

FUZZ_DIR = Path(__file__).resolve().parent
SEED_VARIABLE = "MENTORBOT_FUZZ_SEED"
_chosen: dict[str, int] = {}


def _run_seed(config: pytest.Config) -> int:
    """The seed of this run: --hypothesis-seed, else MENTORBOT_FUZZ_SEED, else random."""
    if "seed" not in _chosen:
        given = config.getoption("--hypothesis-seed", default=None) or os.environ.get(SEED_VARIABLE)
        _chosen["seed"] = int(given) if given else random.SystemRandom().randrange(2**32)
    return _chosen["seed"]


def pytest_configure(config: pytest.Config) -> None:
    """Choose the seed before xdist starts its workers, which inherit the environment."""
    if not hasattr(config, "workerinput"):
        os.environ[SEED_VARIABLE] = str(_run_seed(config))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give every fuzz test the run's seed (Hypothesis applies --hypothesis-seed itself)."""
    chosen = _run_seed(config)
    if config.getoption("--hypothesis-seed", default=None) is not None:
        return
    for item in items:
        test = getattr(item, "obj", None)
        if FUZZ_DIR in Path(str(item.path)).parents and hasattr(test, "hypothesis"):
            hypothesis_seed(chosen)(test)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print how to replay this run's examples."""
    if "seed" in _chosen:
        seed = _chosen["seed"]
        terminalreporter.write_line(
            f"fuzz tests ran with seed {seed}; replay with --hypothesis-seed={seed} "
            f"(or {SEED_VARIABLE}={seed})"
        )
