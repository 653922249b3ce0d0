"""`make fuzz-topology`: schemathesis' stateful phase against the running topology, over HTTP.

The suite fuzzes every operation in-process (tests/contract/test_schemathesis.py). This runs the
same document's scenarios against the real thing: the topology of ops/topology.py (gunicorn,
PostgreSQL with row-level security, Redis, workers). Scenarios of up to eight calls follow the
document's links from what a create answered to its read, change, actions and sub-collections,
as the demo organisation's administrator and as a Facito operator (half the budget each), with
every check schemathesis has (server errors, status codes, content types, response schemas and
headers, stateful checks); each call goes to one of the two API processes in turn, as a load
balancer would send it.

`--scenarios N` (default 300) sets the budget. Exit status 1 on any failure: a 5xx or a
response that does not conform to the document.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.stateful import run_state_machine_as_test

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "ops")]
# The suite's own configuration: the same checks, and the same documented exemptions.
from tests.contract.conftest import schemathesis_config  # noqa: E402
from tests.contract.test_schemathesis import EXEMPT_CHECKS  # noqa: E402
from topology import Client, topology  # noqa: E402


def run_scenarios(api: list[str], token: str, org: str, scenarios: int) -> Counter[str]:
    """The stateful phase against ``api`` as ``token``; the calls by operation and status."""
    schema = schemathesis.openapi.from_url(
        f"{api[0]}/openapi.json",
        config=schemathesis_config(
            auth={"openapi": {"bearerAuth": {"bearer": token}}},
            phases={"stateful": {"inference": {"algorithms": []}}},
            operations=EXEMPT_CHECKS,
        ),
    )
    calls: Counter[str] = Counter()
    turn = [0]

    class Scenario(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Any) -> None:
            parameters = case.path_parameters or {}
            if "org_id" in parameters:
                # Other organisations' paths answer 404 by design: stay in our own.
                parameters["org_id"] = org

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            turn[0] += 1
            return {"base_url": api[turn[0] % len(api)]}

        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)
            calls[f"{case.method} {case.operation.path} {response.status_code}"] += 1

    # One Hypothesis run per scenario: the live database keeps what earlier scenarios created,
    # so the same draws can meet other answers, which one run across scenarios takes for a
    # flaky strategy (the in-process suite empties the tables after each scenario instead).
    one = settings(
        max_examples=1,
        stateful_step_count=8,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    for _ in range(scenarios):
        run_state_machine_as_test(Scenario, settings=one)
    return calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the folder and its logs")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="facito-fuzz-"))
    print(f"fuzz in {folder}")
    try:
        with topology(folder, rate_limit="1000000/minute") as parts:
            org = Client(parts.token).call("GET", f"{parts.api[0]}/v1/me").json()
            callers = {
                "the demo organisation's administrator": parts.token,
                "a Facito operator": parts.dev_token("--role", "Facito.Operator"),
            }
            calls: Counter[str] = Counter()
            for who, token in callers.items():
                print(f"== scenarios as {who}")
                calls += run_scenarios(
                    parts.api, token, org["organisation_id"], args.scenarios // len(callers)
                )
    except (AssertionError, FailureGroup) as failure:
        print(f"FAILED:\n{failure}\nlogs in {folder}", file=sys.stderr)
        args.keep = True
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    errors = {call: n for call, n in calls.items() if call.rsplit(" ", 1)[1].startswith("5")}
    statuses = Counter(call.rsplit(" ", 1)[1] for call in calls.elements())
    operations = {call.rsplit(" ", 1)[0] for call in calls}
    print(f"{sum(calls.values())} calls over {len(operations)} operations: {dict(statuses)}")
    if errors:
        print(f"FAILED: server errors {errors}", file=sys.stderr)
        return 1
    print(f"{args.scenarios} scenarios: no 5xx, every answer conforms to the document")
    return 0


if __name__ == "__main__":
    sys.exit(main())
