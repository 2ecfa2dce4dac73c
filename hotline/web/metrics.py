"""``GET /metrics``: the Prometheus text format, for the operator's monitoring.

Off unless ``HOTLINE_METRICS_TOKEN`` is set: then 404, as for any page that does not exist.
With it, the scraper sends ``Authorization: Bearer <token>``; anything else is 401. Counts and
timings only (:mod:`hotline.infra.metrics`); the backlog and the queue's length are counted
from the database at each scrape.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator

from flask import Blueprint, Response, abort, request
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from hotline.infra import metrics
from hotline.runtime import Runtime
from hotline.services.backlog import backlog
from hotline.web import runtime

log = logging.getLogger(__name__)
bp = Blueprint("metrics", __name__)


class BacklogCollector(Collector):
    """The gauges counted at scrape time, from one read-only transaction. When the database
    does not answer they are left out (the scrape still answers with the counters)."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt

    def collect(self) -> Iterator[GaugeMetricFamily]:
        rt = self._rt
        try:
            with rt.sessions() as session:
                counted = backlog(
                    session,
                    rt.clock.now(),
                    grace_seconds=rt.settings.sweep_grace_seconds,
                    lease_seconds=rt.dispatcher.policy.lease_seconds,
                )
        except SQLAlchemyError as exc:
            log.warning(
                "metrics: backlog not counted, database unavailable (%s)", type(exc).__name__
            )
            return
        stranded = GaugeMetricFamily(
            "hotline_sweep_backlog",
            "Stored work no worker has finished past the grace period, what the next sweep "
            "hands over: kind=texts (texters with unprocessed texts), kind=replies (unsent).",
            labels=["kind"],
        )
        stranded.add_metric(["texts"], counted.stranded_texts)
        stranded.add_metric(["replies"], counted.stranded_replies)
        yield stranded
        waiting = GaugeMetricFamily(
            "hotline_queue_length",
            "Texters waiting for an advocate, by the band of the queue they wait in.",
            labels=["priority"],
        )
        for tier, count in counted.waiting.items():
            waiting.add_metric([tier.name.lower()], count)
        yield waiting


def _authorized(token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # Constant time: how much of a guess matched must not show in how long the answer took.
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


@bp.get("/metrics")
def scrape() -> Response:
    rt = runtime()
    token = rt.settings.metrics_token
    if token is None:
        abort(404)
    if not _authorized(token):
        return Response(
            "a valid bearer token is required\n",
            status=401,
            content_type="text/plain; charset=utf-8",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    body = metrics.exposition(
        [BacklogCollector(rt)], multiprocess_dir=rt.settings.metrics_multiprocess_dir
    )
    return Response(body, status=200, content_type=metrics.CONTENT_TYPE_LATEST)
