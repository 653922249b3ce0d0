"""The requests Microsoft Entra ID's provisioning service sends, and the answers it expects."""

from __future__ import annotations

import uuid

from tests.api.organisations.helpers import actions
from tests.api.scim.conftest import (
    ENTERPRISE,
    GROUP,
    SCIM,
    SCIM_JSON,
    create_group,
    create_user,
    patch,
)

ADMIN = "Organisation.Admin"


def _account(client, org, auth, account_id):
    return client.get(
        f"/v1/organisations/{org.id}/accounts/{account_id}", headers=auth(org, ADMIN)
    ).json


def test_the_test_connection_filter_on_a_random_id_answers_an_empty_list(
    client, org_a, org_b, scim_a
):
    response = client.get(
        f"{SCIM}/Users", query_string={"filter": f'userName eq "{uuid.uuid4()}"'}, headers=scim_a
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == SCIM_JSON
    assert response.json == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 0,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": [],
    }


def test_entra_finds_users_by_user_name_and_external_id(client, org_a, org_b, scim_a):
    user = create_user(client, scim_a, "ryan@contoso.com", externalId="ryan-ext")
    for expression in ('userName eq "Ryan@Contoso.com"', 'externalId eq "ryan-ext"'):
        found = client.get(
            f"{SCIM}/Users", query_string={"filter": expression}, headers=scim_a
        ).json
        assert [r["id"] for r in found["Resources"]] == [user["id"]]
    # externalId is case-exact.
    found = client.get(
        f"{SCIM}/Users", query_string={"filter": 'externalId eq "RYAN-EXT"'}, headers=scim_a
    )
    assert found.json["totalResults"] == 0


def test_capitalised_ops_and_active_as_the_string_false_disable_the_account(
    client, runtime, org_a, org_b, auth, scim_a
):
    user = create_user(client, scim_a, "off@contoso.com")
    url = f"{SCIM}/Users/{user['id']}"

    off = client.patch(
        url, json=patch({"op": "Replace", "path": "active", "value": "False"}), headers=scim_a
    )

    assert off.status_code == 200
    assert off.headers["Content-Type"] == SCIM_JSON
    assert off.json["active"] is False
    assert _account(client, org_a, auth, user["id"])["status"] == "disabled"
    assert actions(runtime, org_a.id)[-1] == "org:account:disable"
    on = client.patch(
        url, json=patch({"op": "Replace", "path": "active", "value": "True"}), headers=scim_a
    )
    assert on.json["active"] is True
    assert actions(runtime, org_a.id)[-1] == "org:account:enable"


def test_dotted_and_urn_keys_in_one_no_path_operation(client, org_a, org_b, auth, scim_a):
    user = create_user(client, scim_a, "many@contoso.com")
    body = patch(
        {
            "op": "Replace",
            "value": {
                "displayName": "Many Keys",
                "name.givenName": "Many",
                "name.familyName": "Keys",
                f"{ENTERPRISE}:department": "Finance",
                f"{ENTERPRISE}:employeeNumber": "42",
                "active": "False",
            },
        }
    )
    response = client.patch(f"{SCIM}/Users/{user['id']}", json=body, headers=scim_a)
    assert response.status_code == 200
    account = _account(client, org_a, auth, user["id"])
    assert (account["display_name"], account["given_name"], account["family_name"]) == (
        "Many Keys",
        "Many",
        "Keys",
    )
    assert (account["department"], account["employee_number"], account["status"]) == (
        "Finance",
        "42",
        "disabled",
    )


def test_the_manager_may_come_as_a_bare_id(client, org_a, org_b, auth, scim_a):
    boss = create_user(client, scim_a, "boss@contoso.com")
    worker = create_user(client, scim_a, "worker@contoso.com")
    url = f"{SCIM}/Users/{worker['id']}"

    by_path = client.patch(
        url,
        json=patch({"op": "Add", "path": f"{ENTERPRISE}:manager", "value": boss["id"]}),
        headers=scim_a,
    )
    assert by_path.status_code == 200
    assert by_path.json[ENTERPRISE]["manager"]["value"] == boss["id"]
    assert _account(client, org_a, auth, worker["id"])["manager_id"] == boss["id"]

    client.patch(url, json=patch({"op": "Remove", "path": f"{ENTERPRISE}:manager"}), headers=scim_a)
    assert _account(client, org_a, auth, worker["id"])["manager_id"] is None
    no_path = client.patch(
        url,
        json=patch({"op": "Replace", "value": {f"{ENTERPRISE}:manager": boss["id"]}}),
        headers=scim_a,
    )
    assert no_path.json[ENTERPRISE]["manager"]["value"] == boss["id"]


def test_the_work_email_is_replaced_by_its_value_filter(client, org_a, org_b, auth, scim_a):
    user = create_user(client, scim_a, "mail@contoso.com")
    body = patch(
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "new@contoso.com"}
    )
    response = client.patch(f"{SCIM}/Users/{user['id']}", json=body, headers=scim_a)
    assert response.json["emails"] == [
        {"value": "new@contoso.com", "type": "work", "primary": True}
    ]
    assert _account(client, org_a, auth, user["id"])["email"] == "new@contoso.com"


def test_marking_a_missing_work_email_primary_keeps_the_address(client, org_a, org_b, auth, scim_a):
    emails = [{"value": "mail@contoso.com", "type": "other", "primary": True}]
    user = create_user(client, scim_a, "mail@contoso.com", emails=emails)
    body = patch({"op": "Replace", "path": 'emails[type eq "work"].primary', "value": True})
    response = client.patch(f"{SCIM}/Users/{user['id']}", json=body, headers=scim_a)
    assert response.status_code == 200, response.json
    assert _account(client, org_a, auth, user["id"])["email"] == "mail@contoso.com"
    other = client.get(f"/v1/organisations/{org_b.id}/accounts", headers=auth(org_b, ADMIN))
    assert other.json["items"] == []


def test_a_patch_that_changes_nothing_answers_200_and_records_nothing(
    client, runtime, org_a, org_b, scim_a
):
    user = create_user(client, scim_a, "same@contoso.com")
    before = actions(runtime, org_a.id)
    same = patch({"op": "Replace", "path": "displayName", "value": user["displayName"]})
    response = client.patch(f"{SCIM}/Users/{user['id']}", json=same, headers=scim_a)
    assert response.status_code == 200
    assert actions(runtime, org_a.id) == before


def test_groups_are_found_by_display_name_without_their_members(client, org_a, org_b, scim_a):
    member = create_user(client, scim_a, "member@contoso.com")
    group = create_group(client, scim_a, "Sales", member["id"])
    found = client.get(
        f"{SCIM}/Groups",
        query_string={"filter": 'displayName eq "sales"', "excludedAttributes": "members"},
        headers=scim_a,
    ).json
    assert [r["id"] for r in found["Resources"]] == [group["id"]]
    assert "members" not in found["Resources"][0]


def test_group_members_are_added_and_removed_in_both_of_entras_shapes(
    client, runtime, org_a, org_b, scim_a
):
    one, two, three = (create_user(client, scim_a, f"m{i}@contoso.com")["id"] for i in range(3))
    group = create_group(client, scim_a, "Engineering")
    url = f"{SCIM}/Groups/{group['id']}"

    def members() -> list[str]:
        return sorted(m["value"] for m in client.get(url, headers=scim_a).json.get("members", []))

    added = client.patch(
        url,
        json=patch(
            {
                "op": "Add",
                "path": "members",
                "value": [{"value": one}, {"value": two}, {"value": three}],
            }
        ),
        headers=scim_a,
    )
    assert added.status_code == 204
    assert added.data == b""
    assert members() == sorted([one, two, three])
    removed = client.patch(
        url,
        json=patch({"op": "Remove", "path": "members", "value": [{"value": one}]}),
        headers=scim_a,
    )
    assert removed.status_code == 204
    assert members() == sorted([two, three])
    by_path = client.patch(
        url, json=patch({"op": "Remove", "path": f'members[value eq "{two}"]'}), headers=scim_a
    )
    assert by_path.status_code == 204
    assert members() == [three]
    renamed = client.patch(
        url, json=patch({"op": "Replace", "path": "displayName", "value": "Eng"}), headers=scim_a
    )
    assert renamed.status_code == 204
    assert client.get(url, headers=scim_a).json["displayName"] == "Eng"
    assert actions(runtime, org_a.id).count("org:group:update") == 4


def test_groups_answer_201_on_create_and_204_on_delete(client, runtime, org_a, org_b, scim_a):
    created = client.post(
        f"{SCIM}/Groups", json={"schemas": [GROUP], "displayName": "Temp"}, headers=scim_a
    )
    assert created.status_code == 201
    assert created.headers["Location"] == created.json["meta"]["location"]
    deleted = client.delete(f"{SCIM}/Groups/{created.json['id']}", headers=scim_a)
    assert deleted.status_code == 204
    assert client.get(f"{SCIM}/Groups/{created.json['id']}", headers=scim_a).status_code == 404
    assert actions(runtime, org_a.id)[-2:] == ["org:group:create", "org:group:delete"]


def test_a_group_display_name_is_unique_in_its_organisation(client, org_a, org_b, scim_a, scim_b):
    create_group(client, scim_a, "Finance")
    again = client.post(
        f"{SCIM}/Groups", json={"schemas": [GROUP], "displayName": "FINANCE"}, headers=scim_a
    )
    assert again.status_code == 409
    assert again.json["scimType"] == "uniqueness"
    create_group(client, scim_b, "Finance")


def test_a_deleted_account_leaves_the_groups_it_was_in(client, org_a, org_b, scim_a):
    member = create_user(client, scim_a, "leaver@contoso.com")
    group = create_group(client, scim_a, "Leavers", member["id"])
    client.delete(f"{SCIM}/Users/{member['id']}", headers=scim_a)
    assert "members" not in client.get(f"{SCIM}/Groups/{group['id']}", headers=scim_a).json
    found = client.get(
        f"{SCIM}/Groups",
        query_string={"filter": f'members[value eq "{member["id"]}"]'},
        headers=scim_a,
    )
    assert found.json["totalResults"] == 0


def test_the_aadoptscim062020_flag_in_the_query_changes_nothing(client, org_a, org_b, scim_a):
    user = create_user(client, scim_a, "flag@contoso.com")
    found = client.get(
        f'{SCIM}/Users?aadOptscim062020&filter=userName eq "flag@contoso.com"', headers=scim_a
    )
    assert [r["id"] for r in found.json["Resources"]] == [user["id"]]
