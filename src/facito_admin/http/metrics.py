"""Prometheus metrics at /metrics, grouped by route template, never by organisation.

Under gunicorn with several workers set ``PROMETHEUS_MULTIPROC_DIR`` (an empty directory, wiped
at each start): every worker writes its samples there and /metrics, answered by any worker,
adds them all up. gunicorn.conf.py tells the exporter when a worker exits.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from flask import Flask, Request
from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.registry import Collector
from prometheus_flask_exporter import PrometheusMetrics
from prometheus_flask_exporter.multiprocess import GunicornInternalPrometheusMetrics

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED_ROUTE = "unmatched"


def url_rule(request: Request) -> str:
    """The route template of a request; every path no route matches shares one label value."""
    # The function's name is the label's name (prometheus_flask_exporter).
    return request.url_rule.rule if request.url_rule is not None else UNMATCHED_ROUTE


def init_metrics(app: Flask, collectors: Iterable[Collector] = ()) -> PrometheusMetrics:
    """Request counts and latencies by method, status and url rule (`/v1/organisations/<…>`).

    ``collectors`` are the domains' own metrics (the audit sealing delay, say): in multiprocess
    mode their samples reach /metrics through the shared directory like every other, and only
    the collectors that read their figures at scrape time (the job backlog) are registered.
    """
    # The route template, not the path: ids (and so organisations) never become label values.
    options: dict[str, Any] = {"group_by": url_rule}
    # One registry per app: tests build several apps in one process.
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROCESS_ENV):
        for collector in collectors:
            if not isinstance(collector, MetricWrapperBase):
                registry.register(collector)
        return GunicornInternalPrometheusMetrics(app, registry=registry, **options)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    for collector in collectors:
        registry.register(collector)
    return PrometheusMetrics(app, registry=registry, **options)
