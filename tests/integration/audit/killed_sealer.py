"""A sealer process for test_sealing: seals in small batches and stops mid-way through the second.

Run as ``python -m tests.integration.audit.killed_sealer URL ORGANISATION_ID BATCH``: it seals
one batch (committed), writes the second batch's events, prints ``mid-batch`` and waits there,
its transaction open, for the test to SIGKILL it.
"""

from __future__ import annotations

import sys
import time
import uuid

from facito_admin.audit.sealing import seal_pending
from facito_admin.db.session import Database, unit_of_work
from facito_admin.domains import load_models


def main() -> None:
    url, organisation, batch = sys.argv[1], uuid.UUID(sys.argv[2]), int(sys.argv[3])
    load_models()
    database = Database(url)

    def wait_to_be_killed(written: int) -> None:
        sys.stdout.write(f"mid-batch {written}\n")
        sys.stdout.flush()
        time.sleep(120)

    with unit_of_work(database, organisation_id=organisation) as session:
        seal_pending(session, limit=batch)
    with unit_of_work(database, organisation_id=organisation) as session:
        seal_pending(session, limit=batch, mid_batch=wait_to_be_killed)
    raise SystemExit("not killed")


if __name__ == "__main__":
    main()
