"""The HTTP edge: what every request goes through, whatever route or protocol it is for.

Request ids, the host check, rate limits, authentication and authorisation (the one decision
of who reaches an organisation: access.reach), the request's session bound to its
organisation, JSON bodies, one transaction with its audit event, Idempotency-Key, conditional
requests, error answers and absolute URLs. It imports no domain: each protocol (REST, SCIM)
registers its authenticator, permission check and error renderer (protocols.py), and the
audit domain says how to count a request's events (transactions.AuditCheck).

Views import what they use from here.
"""

from __future__ import annotations

from .access import (
    authenticate,
    authenticated_or_none,
    current_access,
    current_ctx,
    declared_permissions,
    entra_principal,
    require,
)
from .arguments import Blueprint, json_body
from .conditional import (
    ETAG_DOC,
    IF_MATCH_DOC,
    IF_MATCH_OPTIONAL_DOC,
    etag_header,
    if_match,
    optional_if_match,
    with_etag,
)
from .context import SAFE_METHODS, db_session, request_id, request_writes, runtime
from .downloads import zip_download
from .problems import PROBLEM_CONTENT_TYPE, ProblemSchema, problem_json, problem_response
from .protocols import Problem, Protocol
from .transactions import audit_exempt, audited_read, exempt_from_audit
from .transparency import StaffAccess, StaffCall
from .urls import absolute_url, next_page_link, page_response

__all__ = [
    "ETAG_DOC",
    "IF_MATCH_DOC",
    "IF_MATCH_OPTIONAL_DOC",
    "PROBLEM_CONTENT_TYPE",
    "SAFE_METHODS",
    "Blueprint",
    "Problem",
    "ProblemSchema",
    "Protocol",
    "StaffAccess",
    "StaffCall",
    "absolute_url",
    "audit_exempt",
    "audited_read",
    "authenticate",
    "authenticated_or_none",
    "current_access",
    "current_ctx",
    "db_session",
    "declared_permissions",
    "entra_principal",
    "etag_header",
    "exempt_from_audit",
    "if_match",
    "json_body",
    "next_page_link",
    "optional_if_match",
    "page_response",
    "problem_json",
    "problem_response",
    "request_id",
    "request_writes",
    "require",
    "runtime",
    "with_etag",
    "zip_download",
]
