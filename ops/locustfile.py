"""The load of `ops/load.py`: an administrator's console, an integration script and a SCIM
provisioning client, at once, against both API processes of the topology.

Read from the environment (ops/load.py sets them): FACITO_LOAD_HOSTS (the API base URLs,
comma-separated; each request goes to one of them, as a load balancer would send it),
FACITO_LOAD_TOKEN (an Organisation.Admin token), FACITO_LOAD_SCIM_TOKEN, FACITO_LOAD_ORG.

A 412 on a PATCH is the answer to a lost race between two users editing the same account
(If-Match): it counts as a success of its own name, never as an error. Any 5xx fails.
"""

from __future__ import annotations

import os
import random
import uuid
from typing import Any

from locust import HttpUser, between, task

HOSTS = [host for host in os.environ.get("FACITO_LOAD_HOSTS", "").split(",") if host]
ORG = os.environ.get("FACITO_LOAD_ORG", "")
TOKEN = os.environ.get("FACITO_LOAD_TOKEN", "")
SCIM_TOKEN = os.environ.get("FACITO_LOAD_SCIM_TOKEN", "")
SCIM_JSON = "application/scim+json"


class Administrator(HttpUser):
    """Lists, searches, reads, creates and edits accounts; reads the audit log; provisions."""

    host = HOSTS[0] if HOSTS else "http://127.0.0.1:5000"
    wait_time = between(0.05, 0.2)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {TOKEN}"
        page = self._get("/accounts?limit=200", "list accounts").json()
        self.accounts = [item["id"] for item in page["items"]]
        self.user_names = [item["user_principal_name"] for item in page["items"]]

    def _url(self, path: str) -> str:
        return f"{random.choice(HOSTS)}/v1/organisations/{ORG}{path}"

    def _get(self, path: str, name: str) -> Any:
        return self.client.get(self._url(path), name=name)

    @task(10)
    def list_accounts(self) -> None:
        self._get("/accounts?limit=50", "list accounts")

    @task(3)
    def search_accounts(self) -> None:
        term = random.choice(self.user_names)[:5]
        self._get(f"/accounts?q={term}", "search accounts")

    @task(10)
    def read_account(self) -> None:
        self._get(f"/accounts/{random.choice(self.accounts)}", "read account")

    @task(2)
    def create_account(self) -> None:
        name = f"load-{uuid.uuid4().hex[:12]}@demo.example"
        created = self.client.post(
            self._url("/accounts"),
            json={"user_principal_name": name, "display_name": "Load Test"},
            name="create account",
        )
        if created.status_code == 201:
            self.accounts.append(created.json()["id"])

    @task(3)
    def patch_account(self) -> None:
        account = random.choice(self.accounts)
        current = self._get(f"/accounts/{account}", "read account")
        if current.status_code != 200:
            return
        with self.client.patch(
            self._url(f"/accounts/{account}"),
            json={"job_title": f"Engineer {random.randint(1, 1000)}"},
            headers={"If-Match": current.headers["ETag"]},
            name="patch account (If-Match)",
            catch_response=True,
        ) as answer:
            if answer.status_code == 412:
                answer.success()  # another user changed it first: the lost update prevented

    @task(2)
    def audit_query(self) -> None:
        self._get("/audit-events?limit=20", "query audit log")

    @task(5)
    def scim_filtered_get(self) -> None:
        user = random.choice(self.user_names)
        self.client.get(
            f"{random.choice(HOSTS)}/scim/v2/Users",
            params={"filter": f'userName eq "{user}"'},
            headers={"Authorization": f"Bearer {SCIM_TOKEN}", "Accept": SCIM_JSON},
            name="SCIM filtered get",
        )

    @task(1)
    def scim_create(self) -> None:
        self.client.post(
            f"{random.choice(HOSTS)}/scim/v2/Users",
            json={
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": f"scim-{uuid.uuid4().hex[:12]}@demo.example",
                "active": True,
                "name": {"givenName": "Load", "familyName": "Test"},
            },
            headers={"Authorization": f"Bearer {SCIM_TOKEN}", "Content-Type": SCIM_JSON},
            name="SCIM create",
        )
