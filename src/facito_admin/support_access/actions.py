"""The support_access domain's audit actions (`scope:resource:action`)."""

from __future__ import annotations

from enum import StrEnum


class SupportAccessAction(StrEnum):
    Request = "org:support-access:request"
    # Started at once, where the effective policy needs no approval.
    Start = "org:support-access:start"
    Approve = "org:support-access:approve"
    Deny = "org:support-access:deny"
    Revoke = "org:support-access:revoke"
    # The requester withdrew a pending request or gave up a grant before its end.
    Release = "org:support-access:release"
    # Unanswered in time (a request), or past its end (a grant): the expiry job's record.
    Expire = "org:support-access:expire"
    End = "org:support-access:end"
    # One call a staff member made inside the organisation (the access log).
    StaffCall = "org:staff-access:call"
    # The same, once the organisation's data is deleted (offboarding): kept on Facito's chain,
    # so that the call neither goes unrecorded nor writes the organisation new rows.
    StaffCallAfterDeletion = "facito:staff-access:call"
