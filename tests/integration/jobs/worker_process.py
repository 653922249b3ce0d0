"""`facito-admin worker` with the test handlers loaded: a worker process a test can SIGKILL.

Run as `python -m tests.integration.jobs.worker_process` with FACITO_* in the environment.
"""

from __future__ import annotations

import tests.factories.jobs  # noqa: F401 - registers the test job handlers
from facito_admin.cli import main

if __name__ == "__main__":
    main(["worker", "--workers", "1", "--no-periodic"])
