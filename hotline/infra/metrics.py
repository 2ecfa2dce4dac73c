"""What an operator's Prometheus scrapes: the hotline's counters and timings.

The metrics live in one registry of their own (:data:`REGISTRY`), not the library's global
one, so importing this module twice in tests or next to another library registers nothing
twice. Their labels are fixed words (a reason, a result); nothing that could carry a phone
number, a text or an id is ever a label.

Under gunicorn with several workers each process counts on its own; with
``PROMETHEUS_MULTIPROC_DIR`` set to an empty folder before the processes start, the library
keeps the counts in files there and :func:`exposition` adds them up at scrape time.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry(auto_describe=True)

WEBHOOK_SECONDS = Histogram(
    "hotline_webhook_seconds",
    "Time the inbound SMS webhook took to answer Twilio.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0),
    registry=REGISTRY,
)
TEXTS_STORED = Counter(
    "hotline_texts_stored",
    "Inbound texts stored (a duplicate delivery of a stored text is not counted).",
    registry=REGISTRY,
)
HAND_OFFS_FAILED = Counter(
    "hotline_hand_offs_failed",
    "Hand-offs to the workers not made, left to the sweep: reason=error when the broker "
    "failed, reason=paused when skipped during the pause after a failure.",
    ["reason"],
    registry=REGISTRY,
)
SENDS = Counter(
    "hotline_sends",
    "Attempts to send a stored reply, by result (sent, retry, failed, canceled, nothing).",
    ["result"],
    registry=REGISTRY,
)

for _reason in ("error", "paused"):
    HAND_OFFS_FAILED.labels(reason=_reason)  # a series at 0 from the start, not absent


def exposition(scraped: Iterable[Collector] = (), multiprocess_dir: str | None = None) -> bytes:
    """The Prometheus text format: these metrics (every process's, with ``multiprocess_dir``)
    followed by ``scraped``, collectors computed at scrape time."""
    registry = CollectorRegistry()
    if multiprocess_dir:
        from prometheus_client.multiprocess import MultiProcessCollector

        MultiProcessCollector(registry, path=multiprocess_dir)  # type: ignore[no-untyped-call]
        output = generate_latest(registry)
    else:
        output = generate_latest(REGISTRY)
    extra = CollectorRegistry()
    for collector in scraped:
        extra.register(collector)
    return output + generate_latest(extra)


__all__ = [
    "CONTENT_TYPE_LATEST",
    "HAND_OFFS_FAILED",
    "REGISTRY",
    "SENDS",
    "TEXTS_STORED",
    "WEBHOOK_SECONDS",
    "exposition",
]
