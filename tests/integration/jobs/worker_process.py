"""The `facito-admin` CLI with the test job handlers loaded, for tests that run it as a process
(and may SIGKILL it): `python -m tests.integration.jobs.worker_process worker --workers 1`."""

from __future__ import annotations

import sys

import tests.factories.jobs  # noqa: F401 - registers the test job handlers
from facito_admin.cli import main

if __name__ == "__main__":
    main(sys.argv[1:])
