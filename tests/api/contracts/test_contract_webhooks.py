"""Contract changes and the residency they break are published to the organisation's
webhook endpoints, and to no other organisation's."""

from __future__ import annotations

from facito_admin.webhooks.models import WebhookDelivery
from tests.api.contracts.helpers import OPERATOR, contract_body, contracts_url
from tests.conftest import Org
from tests.factories.webhooks import deliveries, make_endpoint

ALL_POLICY_EVENTS = ["policy.contract_changed", "organisation.residency_invalid"]


def _events(rows: list[WebhookDelivery]) -> list[str]:
    return [row.event_type for row in rows]


def test_a_recorded_contract_is_published_to_the_organisations_endpoints_only(
    client, runtime, org_a: Org, org_b: Org, auth
):
    make_endpoint(runtime, org_a.id, "https://hooks.example.test/a", event_types=ALL_POLICY_EVENTS)
    make_endpoint(runtime, org_b.id, "https://hooks.example.test/b", event_types=ALL_POLICY_EVENTS)

    body = contract_body(overrides={"dsr.response_days": 14})
    assert (
        client.post(contracts_url(org_a), json=body, headers=auth(None, OPERATOR)).status_code
        == 201
    )

    [delivery] = deliveries(runtime, org_a.id)
    assert delivery.event_type == "policy.contract_changed"
    assert delivery.payload["data"]["overrides"] == {"dsr.response_days": 14}
    assert delivery.payload["data"]["action"] == "create"
    assert deliveries(runtime, org_b.id) == []


def test_a_contract_that_forbids_the_current_region_publishes_residency_invalid(
    client, runtime, org_a: Org, org_b: Org, auth
):
    make_endpoint(runtime, org_a.id, "https://hooks.example.test/a", event_types=ALL_POLICY_EVENTS)
    operator = auth(None, OPERATOR)
    organisation = client.get(f"/v1/organisations/{org_a.id}", headers=operator).get_json()
    # Only the primary region stays allowed: the backup region now breaks the policy.
    body = contract_body(overrides={"residency.allowed_regions": [organisation["primary_region"]]})
    assert client.post(contracts_url(org_a), json=body, headers=operator).status_code == 201

    events = _events(deliveries(runtime, org_a.id))
    assert sorted(events) == ["organisation.residency_invalid", "policy.contract_changed"]
    assert deliveries(runtime, org_b.id) == []
