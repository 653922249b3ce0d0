"""schemathesis over every operation, in-process, with real tokens and real organisations.

One ordinary test per caller runs every operation of the served document in a loop: the
`database` fixture empties the tables after each test, so the operations share one pair of
organisations, and schemathesis' own pytest plugin (`from_fixture`) does not run on this pytest.
Each operation gets a Hypothesis run of valid and of invalid requests; all of schemathesis'
default checks apply (server errors, status codes, content types, response schemas and headers,
acceptance of valid and rejection of invalid data, authentication actually enforced), and the
failures of all operations are reported together.

FACITO_SCHEMATHESIS_EXAMPLES raises the number of examples per operation for a deeper local run.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.schemas import APIOperation, BaseSchema

from tests.conftest import Org

MAX_EXAMPLES = int(os.environ.get("FACITO_SCHEMATHESIS_EXAMPLES", "25"))
CASE_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    # The same cases on every run: a failure in CI reproduces on a laptop.
    derandomize=True,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)


def _path_parameters(operation: APIOperation, organisation: Org) -> dict[str, Any] | None:
    # A real organisation, so that requests reach the handlers instead of stopping at 404.
    return {"org_id": str(organisation.id)} if "{org_id}" in operation.path else None


def _run(
    operation: APIOperation,
    mode: GenerationMode,
    headers: dict[str, str],
    organisation: Org,
    statuses: Counter[int],
) -> None:
    strategy = operation.as_strategy(
        mode, path_parameters=_path_parameters(operation, organisation)
    )

    @CASE_SETTINGS
    @given(case=strategy)
    def check(case: Any) -> None:
        # Given at call time, the token counts as the caller's own credentials: schemathesis
        # then also probes the operation without it and with a forged one (ignored_auth).
        response = case.call_and_validate(headers=headers)
        statuses[response.status_code] += 1

    check()


def _fuzz_every_operation(
    api_schema: BaseSchema, headers: dict[str, str], organisation: Org
) -> dict[str, Counter[int]]:
    failures: list[str] = []
    answered: dict[str, Counter[int]] = {}
    for result in api_schema.get_all_operations():
        operation = result.ok()
        statuses = answered.setdefault(operation.label, Counter())
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _run(operation, mode, headers, organisation, statuses)
            except Unsatisfiable:
                # Nothing of this operation can be made invalid: no parameters, no body.
                assert mode is GenerationMode.NEGATIVE, operation.label
            except (Exception, FailureGroup) as error:  # noqa: BLE001 - report every operation
                failures.append(f"{operation.label} ({mode.value}):\n{error}")
    assert not failures, "\n\n".join(failures)
    assert answered
    # The caller's real token is always accepted: a 401 would mean the run tested nothing.
    assert not [label for label, statuses in answered.items() if 401 in statuses]
    # Operations whose only id is the organisation find it (other ids are random: 404).
    org_only = [label for label in answered if label.count("{") == 1 and "{org_id}" in label]
    assert org_only
    assert not [label for label in org_only if set(answered[label]) == {404}]
    return answered


def test_every_operation_conforms_to_the_document_for_an_operator(
    api_schema: BaseSchema, org_a: Org, org_b: Org, operator: dict[str, str]
):
    answered = _fuzz_every_operation(api_schema, operator, org_a)
    # Operators may do everything there is: somewhere, every kind of request succeeded.
    assert any(status == 201 for statuses in answered.values() for status in statuses)


def test_every_operation_conforms_to_the_document_for_an_organisation_admin(
    api_schema: BaseSchema, org_a: Org, org_b: Org, auth: Callable[..., dict[str, str]]
):
    answered = _fuzz_every_operation(api_schema, auth(org_a, "Organisation.Admin"), org_a)
    # Operator-only operations refuse the admin before reading the request (403, never 422).
    assert set(answered["POST /v1/organisations"]) == {403}
