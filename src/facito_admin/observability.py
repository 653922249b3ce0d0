"""The process's own Prometheus metrics: what /metrics of the API and the worker's metrics port
serve besides the request metrics (those are the edge's)."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    start_http_server,
)
from prometheus_client.registry import Collector

from .audit import sealing
from .directory_sync.metrics import DirectorySyncHealth
from .jobs import metrics as job_metrics
from .jobs.metrics import JobBacklog
from .runtime import Runtime
from .webhooks import delivery


def metric_collectors(runtime: Runtime) -> tuple[Collector, ...]:
    """Audit sealing, job attempts and backlog, webhook deliveries, directory sync health."""
    return (
        *sealing.METRICS,
        *job_metrics.METRICS,
        *delivery.METRICS,
        JobBacklog(runtime),
        DirectorySyncHealth(runtime),
    )


def serve_metrics(runtime: Runtime, host: str, port: int) -> None:
    """Serve this process's metrics over HTTP from a thread (`facito-admin worker`)."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    for collector in metric_collectors(runtime):
        registry.register(collector)
    start_http_server(port, addr=host, registry=registry)
