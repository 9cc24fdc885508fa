"""The bot's Prometheus metrics, all defined here, each app with its own registry.

Operators graph and alert on these (`GET /metrics` in HTTP mode). A registry per app rather
than prometheus-client's global one: tests build many apps in one process, and a second
`policybot_answers_total` in the global registry would be refused.
"""
from __future__ import annotations

import math
from typing import Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

OUTCOMES = ("answered", "escalated")
# An answer is an e5 forward pass or two (tens of ms warm); seconds mean a loaded machine.
LATENCY_BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class BotMetrics:
    """Counters, the latency histogram and the outbox gauge of one running bot."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.answers = Counter("policybot_answers", "Slack questions answered, by outcome (answered or escalated)",
                               ["outcome"], registry=self.registry)
        self.escalations = Counter("policybot_escalations",
                                   "Slack questions handed to the contact window instead of answered, by reason",
                                   ["reason"], registry=self.registry)
        self.answer_seconds = Histogram("policybot_answer_seconds", "Time to answer one Slack question (retrieval "
                                        "and decision, without posting)", buckets=LATENCY_BUCKETS_S,
                                        registry=self.registry)
        self.outbox_pending = Gauge("policybot_handoff_outbox_pending",
                                    "Requests to the contact window saved but not yet e-mailed", registry=self.registry)
        self.reloads = Counter("policybot_index_reloads", "New index generations swapped in while running",
                               registry=self.registry)
        for outcome in OUTCOMES:  # both series exist from the start, so a rate() has a zero to begin with
            self.answers.labels(outcome=outcome)

    def observe_answer(self, status: str, reason: str | None, seconds: float) -> None:
        """One answer given to a Slack question: its outcome, and why it was escalated."""
        self.answers.labels(outcome=status).inc()
        if status == "escalated":
            self.escalations.labels(reason=reason or "unknown").inc()
        self.answer_seconds.observe(seconds)

    def record_reload(self) -> None:
        self.reloads.inc()

    def watch_outbox(self, pending: Callable[[], int]) -> None:
        """Read the outbox depth at each scrape; a database that cannot be read reads as NaN
        (the scrape still succeeds, and /healthz says what is wrong)."""
        def read() -> float:
            try:
                return float(pending())
            except Exception:
                return math.nan
        self.outbox_pending.set_function(read)

    def exposition(self) -> tuple[bytes, str]:
        """The text format a Prometheus scrape reads, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
