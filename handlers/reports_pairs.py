"""Lead reports: overview, cadence, at-risk, milestones and mentors (being built)."""

from __future__ import annotations

from handlers.figures import Kind

#: The kinds this module offers, in the order ``report`` lists them.
KINDS: list[Kind] = []
