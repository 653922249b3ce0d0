"""gunicorn settings read from this folder: `gunicorn wsgi:app` (see README, Production)."""

import os

wsgi_app = "wsgi:app"
# Sync workers (one request at a time each), as many as the machine has cores and more: on
# 2 cores, 4 threads per worker (gthread) made SCIM creates slower (86 against 110 creates/s
# at 4 connections, bench/scim.py --server-threads): a thread back from a database round
# trip waits for the GIL, and a create makes a dozen of them.


def child_exit(_server, worker):
    # With PROMETHEUS_MULTIPROC_DIR, the samples of a dead worker's live gauges must go.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_flask_exporter.multiprocess import GunicornInternalPrometheusMetrics

        GunicornInternalPrometheusMetrics.mark_process_dead_on_child_exit(worker.pid)
