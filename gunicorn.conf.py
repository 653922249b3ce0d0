"""gunicorn settings read from this folder: `gunicorn wsgi:app` (see README, Production)."""

import os

wsgi_app = "wsgi:app"
# Threads per worker: a request waiting on the database (a commit's WAL flush, a query) lets
# another run, and concurrent commits share their flushes. Sessions, pools and caches are
# per-thread or locked; override with --threads or GUNICORN_CMD_ARGS.
worker_class = "gthread"
threads = 4


def child_exit(_server, worker):
    # With PROMETHEUS_MULTIPROC_DIR, the samples of a dead worker's live gauges must go.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_flask_exporter.multiprocess import GunicornInternalPrometheusMetrics

        GunicornInternalPrometheusMetrics.mark_process_dead_on_child_exit(worker.pid)
