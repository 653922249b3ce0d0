"""The effective policy: statement in force ⊕ contract in force, each value with provenance."""

from __future__ import annotations

from datetime import timedelta

from facito_admin.accounts.models import Account
from facito_admin.db.base import utcnow
from facito_admin.policies.parameters import PARAMETERS
from facito_admin.policies.statements.service import SEED_STATEMENT_ID
from tests.api.accounts.helpers import account_url
from tests.api.contracts.helpers import (
    ADMIN,
    OPERATOR,
    create_contract,
    field_errors,
    policy_url,
    rfc3339,
)
from tests.conftest import Org
from tests.factories.accounts import make_account


def test_a_contract_setting_response_days_to_14_changes_that_organisation_only_from_its_start(
    client, org_a: Org, org_b: Org, auth
):
    """The done-when check of issue 5."""
    start = utcnow() - timedelta(days=1)
    contract, _ = create_contract(
        client, org_a, auth(None, OPERATOR), start=start, overrides={"dsr.response_days": 14}
    )

    response = client.get(policy_url(org_a), headers=auth(org_a, ADMIN))
    assert response.status_code == 200
    value = response.get_json()["values"]["dsr.response_days"]
    assert value["value"] == 14
    assert value["source"] == "contract"
    assert value["contract_reference"] == contract["reference"]
    assert value["id"] == contract["id"]
    assert value["statement_version"] is None
    assert value["since"] == contract["effective_from"]

    other = client.get(policy_url(org_b), headers=auth(org_b, ADMIN)).get_json()
    assert other["values"]["dsr.response_days"]["value"] == 30
    assert other["values"]["dsr.response_days"]["source"] == "statement"
    assert other["contract"] is None

    before = client.get(
        policy_url(org_a),
        query_string={"at": rfc3339(start - timedelta(microseconds=1))},
        headers=auth(org_a, ADMIN),
    ).get_json()
    assert before["values"]["dsr.response_days"]["value"] == 30
    assert before["values"]["dsr.response_days"]["source"] == "statement"
    assert before["values"]["dsr.response_days"]["statement_version"] == "2019-03-08"
    assert before["contract"] is None


def test_every_parameter_appears_with_the_statement_as_its_source_without_a_contract(
    client, org_a: Org, auth
):
    body = client.get(policy_url(org_a), headers=auth(org_a, "Organisation.Reader")).get_json()
    assert set(PARAMETERS) <= set(body["values"])
    assert body["statement"]["id"] == str(SEED_STATEMENT_ID)
    for key, value in body["values"].items():
        assert value["source"] == "statement", key
        assert value["id"] == str(SEED_STATEMENT_ID)
        assert value["since"] == "2019-03-08T00:00:00.000000Z"


def test_a_contract_in_force_is_named_and_its_category_retention_keys_appear(
    client, org_a: Org, auth
):
    contract, _ = create_contract(
        client, org_a, auth(None, OPERATOR), overrides={"retention.days.content.files": 90}
    )
    body = client.get(policy_url(org_a), headers=auth(org_a, "Privacy.Officer")).get_json()
    assert body["contract"]["reference"] == contract["reference"]
    assert body["values"]["retention.days.content.files"]["value"] == 90
    assert body["values"]["dsr.response_days"]["source"] == "statement"


def test_operators_and_integrations_may_read_the_policy_the_other_organisation_may_not(
    client, org_a: Org, org_b: Org, auth
):
    assert client.get(policy_url(org_a), headers=auth(None, OPERATOR)).status_code == 200
    integration = auth(org_a, "Integration.ReadWrite", app=True)
    assert client.get(policy_url(org_a), headers=integration).status_code == 200
    assert client.get(policy_url(org_a), headers=auth(org_b, ADMIN)).status_code == 404


def test_an_instant_without_a_timezone_is_refused(client, org_a: Org, auth):
    response = client.get(
        policy_url(org_a), query_string={"at": "2026-01-01T00:00:00"}, headers=auth(org_a, ADMIN)
    )
    assert response.status_code == 422
    assert "at" in field_errors(response)


def test_before_the_first_statement_no_value_is_in_force(client, org_a: Org, auth):
    body = client.get(
        policy_url(org_a), query_string={"at": "2019-03-07T23:59:59Z"}, headers=auth(org_a, ADMIN)
    ).get_json()
    assert body["statement"] is None
    assert body["values"] == {}


def test_services_read_the_contracts_values_deleted_accounts_stay_for_its_days(
    client, runtime, org_a: Org, org_b: Org, auth
):
    create_contract(
        client, org_a, auth(None, OPERATOR), overrides={"retention.deleted_items_days": 7}
    )
    for org, days in ((org_a, 7), (org_b, 30)):
        account = make_account(runtime, org.id)
        headers = auth(org, ADMIN)
        url = account_url(org, account.id)
        tag = client.get(url, headers=headers).headers["ETag"]
        deleted = client.delete(url, headers=headers | {"If-Match": tag})
        assert deleted.status_code == 200, deleted.get_json()
        with runtime.session(organisation_id=org.id) as session:
            row = session.get(Account, (org.id, account.id))
            assert row is not None
            assert row.purge_after is not None
            assert row.deleted_at is not None
            assert row.purge_after - row.deleted_at == timedelta(days=days)
