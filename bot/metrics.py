"""Prometheus metrics served at ``GET /metrics``.

Each server owns its registry, so several servers in one process (tests) do not collide.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    """Requests, handler latency and the outbox backlog."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "mentorbot_http_requests",
            "HTTP requests by route and status.",
            ["route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "mentorbot_http_request_seconds",
            "Time to answer an HTTP request, by route.",
            ["route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
        )
        self.outbox_backlog = Gauge(
            "mentorbot_outbox_backlog",
            "Messages waiting in the outbox (pending or being sent).",
            registry=self.registry,
        )
        self.outbox_messages = Gauge(
            "mentorbot_outbox_messages",
            "Outbox messages by status; undeliverable ones are people the bot cannot reach.",
            ["status"],
            registry=self.registry,
        )
        self.outbox_delivered = Counter(
            "mentorbot_outbox_delivered",
            "Outbox messages by outcome.",
            ["outcome"],
            registry=self.registry,
        )
