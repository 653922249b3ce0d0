"""Privacy statement versions: Facito's DPO drafts and publishes; every signed-in caller reads
the published ones; published versions never change."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from facito_admin.audit.facito_log import verify_facito_chain
from facito_admin.policies.actions import PolicyAction
from facito_admin.policies.statements.service import SEED_STATEMENT_ID
from tests.api.policies.helpers import (
    DPO,
    OPERATOR,
    URL,
    create_draft,
    draft_body,
    facito_actions,
    publish,
    rfc3339,
    rfc3339_micro,
)
from tests.conftest import Org


def test_the_seeded_2019_version_is_listed_for_an_organisation_user(client, org_a: Org, auth):
    response = client.get(URL, headers=auth(org_a, "Organisation.Reader"))
    assert response.status_code == 200
    [seeded] = response.get_json()["items"]
    assert seeded["id"] == str(SEED_STATEMENT_ID)
    assert seeded["version_label"] == "2019-03-08"
    assert seeded["last_updated"] == "2019-03-08"
    assert seeded["status"] == "published"
    assert seeded["effective_from"] == "2019-03-08T00:00:00.000000Z"
    assert seeded["parameters"]["dsr.response_days"] == 30
    assert seeded["parameters"]["children.consent_age"] == 16
    assert seeded["changes"][0]["material"] is False


def test_the_dpo_drafts_a_version_with_location_etag_and_an_audit_event(now, client, runtime, auth):
    dpo = auth(None, DPO)
    response = client.post(URL, json=draft_body("2026-07", now + timedelta(days=40)), headers=dpo)
    assert response.status_code == 201
    draft = response.get_json()
    assert draft["status"] == "draft"
    assert draft["published_at"] is None
    assert draft["material"] is False
    assert draft["bodies"] == {}
    assert response.headers["Location"].endswith(f"{URL}/{draft['id']}")
    assert response.headers["ETag"]
    assert facito_actions(runtime) == [PolicyAction.StatementCreate]
    with runtime.session() as session:
        assert verify_facito_chain(session).valid


def test_drafts_are_hidden_from_organisations_and_visible_to_operators(
    now, client, org_a: Org, auth
):
    draft = create_draft(client, auth(None, DPO), label="hidden", effective_from=now)
    reader = auth(org_a, "Organisation.Admin")
    assert client.get(f"{URL}/{draft['id']}", headers=reader).status_code == 404
    listed = client.get(URL, headers=reader).get_json()["items"]
    assert [s["version_label"] for s in listed] == ["2019-03-08"]
    operator = auth(None, OPERATOR)
    assert client.get(f"{URL}/{draft['id']}", headers=operator).status_code == 200
    drafts = client.get(f"{URL}?status=draft", headers=operator).get_json()["items"]
    assert [s["version_label"] for s in drafts] == ["hidden"]


def test_only_the_dpo_writes_statements(now, client, org_a: Org, auth):
    body = draft_body("x", now)
    for headers in (auth(None, OPERATOR), auth(org_a, "Organisation.Admin")):
        response = client.post(URL, json=body, headers=headers)
        assert response.status_code == 403
    assert client.post(URL, json=body).status_code == 401


def test_a_draft_must_set_every_parameter_with_valid_values(now, client, auth):
    body = draft_body("bad", now)
    del body["parameters"]["children.consent_age"]
    body["parameters"]["dsr.response_days"] = "thirty"
    body["parameters"]["no.such.key"] = 1
    response = client.post(URL, json=body, headers=auth(None, DPO))
    assert response.status_code == 422
    problem = response.get_json()
    fields = {error["field"] for error in problem["errors"]}
    assert {
        "parameters.children.consent_age",
        "parameters.dsr.response_days",
        "parameters.no.such.key",
    } <= fields


def test_bodies_need_language_tags_and_labels_are_unique(now, client, auth):
    dpo = auth(None, DPO)
    bad = client.post(URL, json=draft_body("b", now, bodies={"Dutch!": "tekst"}), headers=dpo)
    assert bad.status_code == 422
    good = client.post(
        URL, json=draft_body("b", now, bodies={"nl": "tekst", "en-GB": "text"}), headers=dpo
    )
    assert good.status_code == 201
    assert good.get_json()["bodies"] == {"nl": "tekst", "en-GB": "text"}
    again = client.post(URL, json=draft_body("b", now), headers=dpo)
    assert again.status_code == 409
    assert again.get_json()["code"] == "already-exists"
    naive = client.post(
        URL, json=draft_body("c", now) | {"effective_from": "2026-01-01T00:00:00"}, headers=dpo
    )
    assert naive.status_code == 422


def test_a_draft_changes_with_if_match_only(now, client, runtime, auth):
    dpo = auth(None, DPO)
    created = client.post(URL, json=draft_body("d", now), headers=dpo)
    draft, first = created.get_json(), created.headers["ETag"]
    url = f"{URL}/{draft['id']}"
    missing = client.patch(url, json={"last_updated": "2026-05-01"}, headers=dpo)
    assert missing.status_code == 428
    changes = [{"summary": "Shorter replies.", "reason": "Customers asked.", "material": True}]
    changed = client.patch(url, json={"changes": changes}, headers=dpo | {"If-Match": first})
    assert changed.status_code == 200
    assert changed.get_json()["material"] is True
    assert changed.headers["ETag"] != first
    stale = client.patch(
        url, json={"last_updated": "2026-05-02"}, headers=dpo | {"If-Match": first}
    )
    assert stale.status_code == 412
    assert facito_actions(runtime) == [PolicyAction.StatementCreate, PolicyAction.StatementUpdate]


def test_a_draft_can_be_deleted_but_a_published_version_cannot(now, client, runtime, auth):
    dpo = auth(None, DPO)
    created = client.post(URL, json=draft_body("gone", now), headers=dpo)
    url = f"{URL}/{created.get_json()['id']}"
    assert client.delete(url, headers=dpo).status_code == 428
    assert (
        client.delete(url, headers=dpo | {"If-Match": created.headers["ETag"]}).status_code == 204
    )
    assert client.get(url, headers=dpo).status_code == 404
    seeded = f"{URL}/{SEED_STATEMENT_ID}"
    tag = client.get(seeded, headers=dpo).headers["ETag"]
    refused = client.delete(seeded, headers=dpo | {"If-Match": tag})
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "statement-published"
    assert facito_actions(runtime) == [PolicyAction.StatementCreate, PolicyAction.StatementDelete]


def test_a_published_version_is_immutable(now, client, auth):
    dpo = auth(None, DPO)
    draft = create_draft(client, dpo, label="p", effective_from=now + timedelta(days=1))
    assert publish(client, draft["id"], dpo).status_code == 200
    url = f"{URL}/{draft['id']}"
    tag = client.get(url, headers=dpo).headers["ETag"]
    refused = client.patch(
        url, json={"last_updated": "2026-01-01"}, headers=dpo | {"If-Match": tag}
    )
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "statement-published"
    again = publish(client, draft["id"], dpo)
    assert again.status_code == 409
    assert again.get_json()["code"] == "statement-published"


def test_publishing_sets_published_at_and_is_audited(now, client, runtime, auth):
    dpo = auth(None, DPO)
    draft = create_draft(client, dpo, label="now", effective_from=now)
    response = publish(client, draft["id"], dpo)
    assert response.status_code == 200
    published = response.get_json()
    assert published["status"] == "published"
    assert published["published_at"] == rfc3339_micro(now)
    assert facito_actions(runtime)[-1] == PolicyAction.StatementPublish
    with runtime.session() as session:
        assert verify_facito_chain(session).valid


def test_a_material_version_with_too_short_a_notice_is_refused(now, client, auth):
    dpo = auth(None, DPO)
    # The statement in force (2019) promises 30 days' notice of material changes.
    boundary = now + timedelta(days=30)
    early = create_draft(
        client,
        dpo,
        label="early",
        effective_from=boundary - timedelta(seconds=1),
        material=True,
    )
    refused = publish(client, early["id"], dpo)
    assert refused.status_code == 409
    problem = refused.get_json()
    assert problem["code"] == "notice-period-too-short"
    assert problem["earliest_effective_from"] == boundary.isoformat()
    assert problem["notice_days"] == 30
    on_time = create_draft(client, dpo, label="on-time", effective_from=boundary, material=True)
    assert publish(client, on_time["id"], dpo).status_code == 200


def test_the_notice_period_is_that_of_the_statement_in_force(now, client, auth):
    dpo = auth(None, DPO)
    # A new version cannot shorten its own notice period.
    body_values = {"notice.material_change_days": 0}
    draft = create_draft(
        client,
        dpo,
        label="self-serving",
        effective_from=now + timedelta(days=1),
        material=True,
        parameters={**draft_body("x", now)["parameters"], **body_values},
    )
    refused = publish(client, draft["id"], dpo)
    assert refused.get_json()["code"] == "notice-period-too-short"


def test_a_version_cannot_take_effect_before_publication_or_before_the_latest(now, client, auth):
    dpo = auth(None, DPO)
    past = create_draft(client, dpo, label="past", effective_from=now - timedelta(hours=1))
    refused = publish(client, past["id"], dpo)
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "effective-before-publication"
    later = create_draft(client, dpo, label="later", effective_from=now + timedelta(days=10))
    assert publish(client, later["id"], dpo).status_code == 200
    sooner = create_draft(client, dpo, label="sooner", effective_from=now + timedelta(days=5))
    out_of_order = publish(client, sooner["id"], dpo)
    assert out_of_order.status_code == 409
    assert out_of_order.get_json()["code"] == "statement-out-of-order"


def test_the_version_in_force_depends_on_the_instant(now, client, org_a: Org, auth):
    dpo = auth(None, DPO)
    takes_effect = now + timedelta(days=31)
    new = create_draft(client, dpo, label="2026-07", effective_from=takes_effect, material=True)
    assert publish(client, new["id"], dpo).status_code == 200
    reader = auth(org_a, "Organisation.Reader")

    def in_force(at: datetime | None) -> tuple[int, str | None]:
        query = f"?at={rfc3339(at)}" if at else ""
        response = client.get(f"{URL}/in-force{query}", headers=reader)
        return response.status_code, (response.get_json() or {}).get("version_label")

    assert in_force(None) == (200, "2019-03-08")
    assert in_force(takes_effect - timedelta(microseconds=1)) == (200, "2019-03-08")
    assert in_force(takes_effect) == (200, "2026-07")
    assert in_force(takes_effect + timedelta(days=400)) == (200, "2026-07")
    status, _ = in_force(datetime(2019, 3, 7, 23, 59, tzinfo=UTC))
    assert status == 404
    offset = client.get(f"{URL}/in-force?at=2019-03-08T00:30:00%2B01:00", headers=reader)
    assert offset.status_code == 404  # 23:30 UTC on the 7th
    assert client.get(f"{URL}/in-force?at=2026-01-01T00:00:00", headers=reader).status_code == 422


def test_the_change_log_lists_published_entries_newest_first(now, client, auth):
    dpo = auth(None, DPO)
    new = create_draft(client, dpo, label="2026-06", effective_from=now)
    publish(client, new["id"], dpo)
    create_draft(client, dpo, label="unpublished", effective_from=now + timedelta(days=60))
    response = client.get(f"{URL}/change-log", headers=auth(None, OPERATOR))
    assert response.status_code == 200
    entries = response.get_json()["items"]
    assert [e["version_label"] for e in entries] == ["2026-06", "2019-03-08"]
    assert entries[0]["summary"].startswith("Data-subject requests")
    assert entries[0]["published_at"] == rfc3339_micro(now)
    assert entries[1]["last_updated"] == "2019-03-08"


def test_the_diff_names_parameter_changes_entries_between_and_bodies(now, client, org_a: Org, auth):
    dpo = auth(None, DPO)
    first = create_draft(
        client, dpo, label="2026-06", effective_from=now, bodies={"nl": "versie 1"}
    )
    publish(client, first["id"], dpo)
    values = {**draft_body("x", now)["parameters"], "advertising.partner_sharing": False}
    second = create_draft(
        client,
        dpo,
        label="2026-08",
        effective_from=now + timedelta(days=60),
        material=True,
        parameters=values,
        bodies={"nl": "versie 2", "en": "version 2"},
    )
    publish(client, second["id"], dpo)
    reader = auth(org_a, "Organisation.Reader")
    response = client.get(f"{URL}/diff?from=2019-03-08&to={second['id']}", headers=reader)
    assert response.status_code == 200
    diff = response.get_json()
    assert diff["from"]["version_label"] == "2019-03-08"
    assert diff["to"]["version_label"] == "2026-08"
    assert diff["parameters"] == [
        {"key": "advertising.partner_sharing", "change": "changed", "old": True, "new": False},
        {"key": "dsr.response_days", "change": "changed", "old": 30, "new": 28},
    ]
    assert [e["version_label"] for e in diff["changes"]] == ["2026-08", "2026-06"]
    new_text = "--- 2019-03-08\n+++ 2026-08\n@@ -0,0 +1 @@\n+{}\n"
    assert diff["bodies"] == [
        {
            "language": "en",
            "changed": True,
            "in_from": False,
            "in_to": True,
            "text_diff": new_text.format("version 2"),
        },
        {
            "language": "nl",
            "changed": True,
            "in_from": False,
            "in_to": True,
            "text_diff": new_text.format("versie 2"),
        },
    ]
    same = client.get(f"{URL}/diff?from=2026-06&to=2026-08", headers=reader).get_json()
    assert [p["key"] for p in same["parameters"]] == ["advertising.partner_sharing"]
    assert [e["version_label"] for e in same["changes"]] == ["2026-08"]
    unknown = client.get(f"{URL}/diff?from=nope&to=2026-08", headers=reader)
    assert unknown.status_code == 404


def test_the_diff_does_not_reveal_drafts_to_organisations(now, client, org_a: Org, auth):
    draft = create_draft(client, auth(None, DPO), label="secret", effective_from=now)
    url = f"{URL}/diff?from=2019-03-08&to=secret"
    assert client.get(url, headers=auth(org_a, "Organisation.Admin")).status_code == 404
    dpo_view = client.get(url, headers=auth(None, DPO)).get_json()
    assert dpo_view["to"]["id"] == draft["id"]
    assert dpo_view["changes"][0]["version_label"] == "secret"


def test_publishing_checks_an_if_match_when_one_is_sent(now, client, auth):
    dpo = auth(None, DPO)
    created = client.post(URL, json=draft_body("checked", now + timedelta(hours=1)), headers=dpo)
    url = f"{URL}/{created.get_json()['id']}"
    tag = created.headers["ETag"]
    client.patch(url, json={"last_updated": "2026-01-01"}, headers=dpo | {"If-Match": tag})
    stale = client.post(f"{url}/publish", headers=dpo | {"If-Match": tag})
    assert stale.status_code == 412
    fresh = client.get(url, headers=dpo).headers["ETag"]
    assert client.post(f"{url}/publish", headers=dpo | {"If-Match": fresh}).status_code == 200


def test_statement_instants_outside_the_calendar_range_are_refused(now, client, auth):
    dpo = auth(None, DPO)
    far = draft_body("far", now) | {"effective_from": "9999-12-31T23:59:59-01:00"}
    assert client.post(URL, json=far, headers=dpo).status_code == 422
    reader = auth(None, OPERATOR)
    assert (
        client.get(f"{URL}/in-force?at=0001-01-01T00:00:00%2B01:00", headers=reader).status_code
        == 422
    )


def test_versions_are_listed_in_keyset_pages(now, client, auth):
    dpo = auth(None, DPO)
    for label in ("page-1", "page-2"):
        create_draft(client, dpo, label=label, effective_from=now)
    first = client.get(f"{URL}?limit=2", headers=dpo)
    assert [s["version_label"] for s in first.get_json()["items"]] == ["2019-03-08", "page-1"]
    assert 'rel="next"' in first.headers["Link"]
    cursor = first.get_json()["next_cursor"]
    second = client.get(f"{URL}?limit=2&cursor={cursor}", headers=dpo).get_json()
    assert [s["version_label"] for s in second["items"]] == ["page-2"]
    assert second["next_cursor"] is None


def test_unknown_versions_are_404_and_bad_draft_edits_422(now, client, auth):
    dpo = auth(None, DPO)
    missing = f"{URL}/{uuid.uuid4()}"
    assert client.get(missing, headers=dpo).status_code == 404
    assert client.patch(missing, json={}, headers=dpo | {"If-Match": "*"}).status_code == 404
    assert client.post(f"{missing}/publish", headers=dpo).status_code == 404
    created = client.post(URL, json=draft_body("edit", now), headers=dpo)
    url = f"{URL}/{created.get_json()['id']}"
    tag = {"If-Match": created.headers["ETag"]}
    bad = client.patch(url, json={"parameters": {"dsr.response_days": 31}}, headers=dpo | tag)
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.get_json()["errors"]}
    assert "parameters.dsr.response_days" in fields
    assert "parameters.children.consent_age" in fields
    unknown_field = client.patch(url, json={"status": "published"}, headers=dpo | tag)
    assert unknown_field.status_code == 422
    no_changes = client.patch(url, json={"changes": []}, headers=dpo | tag)
    assert no_changes.status_code == 422
    assert client.get(url, headers=dpo).headers["ETag"] == created.headers["ETag"]
