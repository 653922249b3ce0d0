"""The isolation walk over the consents' routes, with rows of their tables in organisation A.

The generic walk (test_isolation_walk.py) aims at the ids org A owns; an organisation that
only exists owns no account, preference change or guardian consent, so this walk seeds them
first and aims the consents' routes at their real ids.
"""

from __future__ import annotations

import uuid

from flask import Flask

from facito_admin.runtime import Runtime
from tests.conftest import Org
from tests.factories.accounts import birth_date_for_age, make_account
from tests.factories.consents import change_preferences, make_data_record, make_guardian_consent
from tests.tenancy.test_isolation_walk import (
    _assert_looks_nonexistent,
    _real_ids,
    _reference_not_found,
    _requests,
    outsiders,
)

CONSENT_PATHS = ("/preferences", "/guardian-consent")


def _seed(runtime: Runtime, org: Org) -> uuid.UUID:
    """A minor's account with a guardian consent, a preference change and a data record."""
    from facito_admin.accounts.models import AccountStatus

    kid = make_account(
        runtime, org.id, birth_date=birth_date_for_age(13), status=AccountStatus.disabled
    )
    make_guardian_consent(runtime, org.id, kid.id)
    change_preferences(runtime, org.id, kid.id, {"channels": {"email": True}})
    make_data_record(runtime, org.id, kid.id)
    return kid.id


def test_other_organisations_callers_get_404_on_the_consents_routes_aimed_at_real_rows(
    app: Flask, client, runtime: Runtime, org_a: Org, outsiders: dict[str, dict[str, str]]
):
    kid = _seed(runtime, org_a)
    candidates = _real_ids(runtime, org_a)
    assert str(kid) in candidates
    assert len(candidates) >= 5, candidates  # organisation, account, change, consent, record…
    walked = 0
    for who, headers in outsiders.items():
        reference = _reference_not_found(client, headers)
        for method, path, body in _requests(app, org_a.id, candidates):
            if not any(part in path for part in CONSENT_PATHS):
                continue
            walked += 1
            response = client.open(path, method=method, headers=headers, **body)
            _assert_looks_nonexistent(response, f"{who}: {method} {path} {body}", reference)
    assert walked


__all__ = ["outsiders"]
