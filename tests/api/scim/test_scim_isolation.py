"""A SCIM token of organisation A can neither read nor change anything of organisation B."""

from __future__ import annotations

from tests.api.scim.conftest import GROUP, SCIM, create_group, create_user, new_user, patch


def test_another_organisations_users_and_groups_do_not_exist_for_the_token(
    client, org_a, org_b, scim_a, scim_b
):
    user = create_user(client, scim_a, "private@a.example")
    group = create_group(client, scim_a, "Private", user["id"])
    user_url, group_url = f"{SCIM}/Users/{user['id']}", f"{SCIM}/Groups/{group['id']}"

    for response in (
        client.get(user_url, headers=scim_b),
        client.put(user_url, json=new_user("stolen@b.example"), headers=scim_b),
        client.patch(
            user_url,
            json=patch({"op": "replace", "path": "displayName", "value": "x"}),
            headers=scim_b,
        ),
        client.delete(user_url, headers=scim_b),
        client.get(group_url, headers=scim_b),
        client.put(group_url, json={"schemas": [GROUP], "displayName": "x"}, headers=scim_b),
        client.patch(
            group_url,
            json=patch({"op": "replace", "path": "displayName", "value": "x"}),
            headers=scim_b,
        ),
        client.delete(group_url, headers=scim_b),
    ):
        assert response.status_code == 404
        assert response.json["status"] == "404"

    assert client.get(f"{SCIM}/Users", headers=scim_b).json["totalResults"] == 0
    assert client.get(f"{SCIM}/Groups", headers=scim_b).json["totalResults"] == 0
    for expression in (f'id eq "{user["id"]}"', 'userName eq "private@a.example"'):
        found = client.get(f"{SCIM}/Users", query_string={"filter": expression}, headers=scim_b)
        assert found.json["totalResults"] == 0
    # B cannot put A's account into its own group either.
    refused = client.post(
        f"{SCIM}/Groups",
        json={"schemas": [GROUP], "displayName": "Mine", "members": [{"value": user["id"]}]},
        headers=scim_b,
    )
    assert refused.status_code == 400
    # A's resources are untouched.
    assert client.get(user_url, headers=scim_a).json["displayName"] == user["displayName"]
    assert client.get(group_url, headers=scim_a).json["members"][0]["value"] == user["id"]
