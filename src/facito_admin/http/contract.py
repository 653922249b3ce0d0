"""What every operation of the OpenAPI document says because of the edge, written once.

The edge answers every operation the same way in the same situations: 401 without a valid
token, 403 without the permission, 404 for an unknown id or another organisation, 400/413/415
/422 for a body it cannot take, 412/428 around If-Match, 429 over the rate limit, 503 when the
database does not answer; it sends X-Request-ID and RateLimit-* headers, ETag, Location and
Link where they apply. :class:`ContractPlugin` writes all that into each operation, with a
stable camelCase ``operationId`` for generated clients, a description that says what the
caller needs, and OpenAPI links from each create to the read, change and delete of what it
created. Views only declare what is particular to them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from apispec import BasePlugin
from flask import Flask
from werkzeug.routing import Rule

from ..auth.permissions import (
    ORGANISATION_ROLES,
    ROLE_PERMISSIONS,
    SELF_PERMISSIONS,
    AppRole,
    Permission,
)
from .access import REQUIRED_ATTR
from .ratelimits import EXEMPT_PATHS

# Verbs of an item (`…ById`, `…ByProduct`) by method; collections list and create.
_ITEM_VERBS = {"get": "get", "patch": "update", "put": "replace", "delete": "delete"}
_WRITES = frozenset({"post", "put", "patch", "delete"})
_WORDS = re.compile(r"[A-Z][a-z0-9]*")

# Component responses (http/openapi.py registers one per status with the problem body).
_NAMES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    412: "PRECONDITION_FAILED",
    413: "REQUEST_ENTITY_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "UNPROCESSABLE_ENTITY",
    428: "PRECONDITION_REQUIRED",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    503: "SERVICE_UNAVAILABLE",
}

HEADER_DOCS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "The request's id: the one sent if well formed, else a new one; "
        "problems repeat it as `request_id`",
        "schema": {"type": "string"},
    },
    "RateLimit-Limit": {
        "description": "Requests allowed in the window (per organisation and client)",
        "schema": {"type": "integer"},
    },
    "RateLimit-Remaining": {
        "description": "Requests left in the window",
        "schema": {"type": "integer"},
    },
    "RateLimit-Reset": {
        "description": "Seconds until the window starts again",
        "schema": {"type": "integer"},
    },
    "RateLimit-Policy": {
        "description": "The limit and its window in seconds, e.g. `600;w=60`",
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer"},
    },
    "Location": {
        "description": "Where the created resource is read",
        "schema": {"type": "string"},
    },
    "Link": {
        "description": 'The next page, as `<url>; rel="next"`, keeping the query\'s filters',
        "schema": {"type": "string"},
    },
    "WWW-Authenticate": {
        "description": 'RFC 6750 challenge: `Bearer realm="facito-admin"`, with '
        '`error="invalid_token"` when a token was refused and `error="insufficient_scope"` '
        "when its roles do not grant the permission",
        "schema": {"type": "string"},
    },
}
RATE_LIMIT_HEADERS = (
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "RateLimit-Policy",
)

IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "An ETag read earlier: 304 with no body while the resource still has it",
    "schema": {"type": "string"},
}


def operation_id(endpoint: str, method: str) -> str:
    """The camelCase operationId of a view (`accounts.AccountById`, `patch` → updateAccount).

    Items (`XById`) get, update, replace and delete; collections (`Xs`) list and create;
    actions (`AccountDisable`) put the verb first. A view may set its own with
    ``@blp.doc(operationId=…)`` where the name of its class does not read well.
    """
    name = endpoint.rsplit(".", 1)[-1]
    words: list[str] = _WORDS.findall(name)
    if "By" in words:
        return _ITEM_VERBS[method] + "".join(words[: words.index("By")])
    if name.endswith("s") and method == "get":
        return "list" + name
    if name.endswith("s") and method == "post":
        return "create" + _singular(name)
    return words[-1].lower() + "".join(words[:-1])


def _singular(name: str) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    return name[:-1]


def _permission_sentence(permissions: tuple[Permission, ...] | None, public: bool) -> str:
    if public:
        return "No token is needed."
    if not permissions:
        return "Any caller with a valid token."
    parts = []
    for permission in permissions:
        roles = sorted(
            role.value for role, granted in ROLE_PERMISSIONS.items() if permission in granted
        )
        parts.append(f"`{permission.value}` ({', '.join(roles) or 'no role'})")
    return "Needs " + " and ".join(parts) + "."


# What each kind of caller may do by its roles: every app role (a person holding an
# organisation's role also has the self permissions), and an employee with none.
_CALLERS = [
    ROLE_PERMISSIONS[role] | (SELF_PERMISSIONS if role in ORGANISATION_ROLES else frozenset())
    for role in AppRole
] + [SELF_PERMISSIONS]


def _one_caller_may(*needs: frozenset[Permission]) -> bool:
    """Whether one kind of caller holds every permission of every one of ``needs``."""
    wanted = frozenset().union(*needs)
    return any(wanted <= granted for granted in _CALLERS)


class ContractPlugin(BasePlugin):
    """Completes every operation: operationId, description, error answers, headers, links."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        # Creates whose links wait for every route to be registered (link_creates).
        self._creates: list[tuple[Rule, dict[str, Any]]] = []

    def operation_helper(
        self,
        path: str | None = None,
        operations: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        rule: Rule | None = kwargs.get("rule")
        if rule is None or not operations:
            return
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            operation.setdefault("operationId", self._operation_id(rule, method))
            self._describe(rule, method, operation)
            self._answers(rule, method, operation)
            if method == "post" and isinstance(operation["responses"].get(201), dict):
                self._creates.append((rule, operation["responses"][201]))

    def _operation_id(self, rule: Rule, method: str) -> str:
        """The view's own operationId (``@blp.doc(operationId=…)``), else the derived one."""
        manual = getattr(self._handler(rule, method), "_apidoc", {}).get("manual_doc", {})
        return str(manual.get("operationId") or operation_id(rule.endpoint, method))

    def _handler(self, rule: Rule, method: str) -> Any:
        view = self.app.view_functions.get(rule.endpoint)
        view_class = getattr(view, "view_class", None)
        return getattr(view_class, method, None) if view_class is not None else view

    def _describe(self, rule: Rule, method: str, operation: dict[str, Any]) -> None:
        public = operation.get("security") == []
        permissions = getattr(self._handler(rule, method), REQUIRED_ATTR, None)
        sentences = [_permission_sentence(permissions, public)]
        if "org_id" in rule.arguments:
            sentences.append(
                "Another organisation's caller gets 404, as if the organisation did not exist."
            )
        said = operation.get("description", "").strip()
        operation["description"] = "\n\n".join(part for part in (said, " ".join(sentences)) if part)

    def _answers(self, rule: Rule, method: str, operation: dict[str, Any]) -> None:
        responses: dict[Any, Any] = operation.setdefault("responses", {})
        for status in sorted(self._error_statuses(rule, method, operation)):
            if status not in responses and str(status) not in responses:
                responses[status] = _NAMES[status]
        success = [s for s in responses if str(s).startswith("2")]
        for status in success:
            response = responses[status]
            if not isinstance(response, dict):
                continue
            headers = response.setdefault("headers", {})
            self._success_headers(rule, int(status), response, headers)
            if method == "get" and "ETag" in headers:
                operation.setdefault("parameters", []).append(IF_NONE_MATCH)
                responses.setdefault(
                    304,
                    {
                        "description": "Not Modified: If-None-Match names the current ETag",
                        "headers": {"ETag": headers["ETag"]},
                    },
                )

    def _error_statuses(self, rule: Rule, method: str, operation: dict[str, Any]) -> set[int]:
        """Every error the edge (and the view's own rules) can answer this operation with."""
        public = operation.get("security") == []
        statuses: set[int] = {500}
        if rule.rule != "/livez":
            statuses.add(503)
        if not public:
            statuses |= {401, 403}
        if rule.rule not in EXEMPT_PATHS:
            statuses.add(429)
        if rule.arguments:
            statuses.add(404)
        if "requestBody" in operation:
            statuses |= {400, 413, 415, 422}
        if method in _WRITES and not public:
            statuses.add(409)
        if any(p.get("in") == "query" for p in _parameters(operation)):
            statuses.add(422)
        if_match = [p for p in _parameters(operation) if p.get("name") == "If-Match"]
        if if_match:
            statuses.add(412)
            if if_match[0].get("required"):
                statuses.add(428)
        return statuses

    def _success_headers(
        self, rule: Rule, status: int, response: dict[str, Any], headers: dict[str, Any]
    ) -> None:
        # Names of header components (FacitoApi registers HEADER_DOCS): apispec makes $refs.
        headers.setdefault("X-Request-ID", "X-Request-ID")
        if rule.rule not in EXEMPT_PATHS:
            for name in RATE_LIMIT_HEADERS:
                headers.setdefault(name, name)
        if status == 201:
            headers["Location"] = "Location"
        if _is_page(response):
            headers.setdefault("Link", "Link")

    def link_creates(self) -> None:
        """Add the links of every create; once every blueprint is registered (app.py)."""
        for rule, created in self._creates:
            self._link_created(rule, created)
        self._creates.clear()

    def _link_created(self, rule: Rule, created: dict[str, Any]) -> None:
        """OpenAPI links from a create (201) to what can be done with the created resource.

        Its read, change and delete, its actions (`…/disable`) and its sub-collections
        (`…/products`): every operation under its path that needs no other id and that a
        caller who may create it may also call (an operator who onboards an organisation does
        not read its audit log). A change that takes If-Match gets the ETag the create answered.
        """
        answers_etag = "ETag" in created.get("headers", {})
        creating = self._permissions(rule, "post")
        links = {}
        for target in self._rules_under(rule):
            [param] = [name for name in target.arguments if name not in rule.arguments]
            source = "id" if param.endswith("_id") else param
            parameters = {name: f"$request.path.{name}" for name in sorted(rule.arguments)}
            parameters[param] = f"$response.body#/{source}"
            for method in sorted((target.methods or set()) - {"HEAD", "OPTIONS"}):
                method_l = method.lower()
                if not _one_caller_may(creating, self._permissions(target, method_l)):
                    continue
                given = dict(parameters)
                if answers_etag and self._takes_if_match(target, method_l):
                    given["header.If-Match"] = "$response.header.ETag"
                target_id = self._operation_id(target, method_l)
                links[target_id] = {"operationId": target_id, "parameters": given}
        if links:
            created["links"] = dict(sorted(links.items()))

    def _permissions(self, rule: Rule, method: str) -> frozenset[Permission]:
        return frozenset(getattr(self._handler(rule, method), REQUIRED_ATTR, None) or ())

    def _takes_if_match(self, rule: Rule, method: str) -> bool:
        manual = getattr(self._handler(rule, method), "_apidoc", {}).get("manual_doc", {})
        return any(p.get("name") == "If-Match" for p in manual.get("parameters", []))

    def _rules_under(self, collection: Rule) -> Iterable[Rule]:
        """Rules of one item of ``collection`` and of what lies under it (one more id only)."""
        for candidate in self.app.url_map.iter_rules():
            rest = candidate.rule.removeprefix(collection.rule)
            if rest != candidate.rule and re.fullmatch(r"/<[^/<>]+>(/[a-z][a-z0-9-]*)*", rest):
                yield candidate


def _parameters(operation: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in operation.get("parameters", []) if isinstance(p, dict)]


def _is_page(response: dict[str, Any]) -> bool:
    """Whether a success answer is a keyset page (common/pagination.py: `XPage` schemas)."""
    return any(
        str((content.get("schema") or {}).get("$ref", "")).endswith("Page")
        for content in response.get("content", {}).values()
    )
