"""Every due kind has a handler in the table the due pass dispatches through."""

from __future__ import annotations

import pytest

from handlers.cycle.registry import HANDLERS, _joined
from handlers.cycle.reviews import review
from storage import DueKind


@pytest.mark.parametrize("kind", list(DueKind))
def test_every_due_kind_has_a_handler(kind: DueKind) -> None:
    assert kind in HANDLERS, (
        f"no handler for the due kind {kind.value!r}: add it to a HANDLERS table"
    )


def test_a_due_kind_two_modules_claim_is_refused() -> None:
    with pytest.raises(ValueError, match="two handlers for the due kind 'midpoint'"):
        _joined({DueKind.MIDPOINT: review}, {DueKind.MIDPOINT: review})
