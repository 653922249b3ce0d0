"""/scim/v2: the SCIM 2.0 endpoints (RFC 7644), for the organisation of the bearer's token.

Not in the OpenAPI document: SCIM has its own contract (RFC 7644, checked by scim2-tester in
tests/contract). The edge authenticates the token and checks its permission (scim/protocol.py)
before a view runs. Views parse the query, call one service function and render; errors leave
as SCIM Error messages (scim/errors.py).
"""

from __future__ import annotations

import json
import re
from typing import Any, cast

from flask import Blueprint, Response, request
from scim2_models.exceptions import SCIMException

from ..http import (
    absolute_url,
    audit_exempt,
    current_ctx,
    db_session,
    exempt_from_audit,
    json_body,
    optional_if_match,
    problem_response,
)
from . import discovery, groups, users
from .auth import touch_last_used
from .errors import SCIM_CONTENT_TYPE, ScimProblem
from .filters import UnknownAttribute
from .messages import problem_of
from .protocol import PREFIX
from .resources import group_resource, project, split_attributes, user_resource, version_of

blp = Blueprint("scim", __name__, url_prefix=PREFIX)
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
# A larger startIndex is taken as this one: both databases take it as an OFFSET, clients read
# it back as a 32-bit integer, and it is past every result, so the page stays empty.
MAX_START_INDEX = 2**31 - 1
_DECIMAL = re.compile(r"[+-]?[0-9]+")
_UNCHANGED = "the SCIM request changed nothing"
_SEARCH = "a SCIM search sent as POST changes nothing"


blp.teardown_request(touch_last_used)


@blp.errorhandler(SCIMException)
def _scim_exception(error: SCIMException) -> Response:
    # scim/messages.py translates the library's errors; one that escapes still leaves as a
    # SCIM Error with its own status and scimType.
    problem = problem_of(error)
    return problem_response(
        problem.status, code=problem.code, detail=problem.detail, extra=problem.extra
    )


def _base_url() -> str:
    return absolute_url(PREFIX)


def _answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps(body), status=status, mimetype=SCIM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _resource_answer(resource: dict[str, Any], kind: str, status: int = 200) -> Response:
    meta = resource["meta"]
    headers = {"ETag": meta["version"]}
    if status == 201:
        headers["Location"] = meta["location"]
    shown = project(
        resource,
        kind,
        split_attributes(request.args.get("attributes")),
        split_attributes(request.args.get("excludedAttributes")),
    )
    return _answer(shown, status, headers)


def _integer(value: Any, name: str, default: int, *, from_body: bool) -> int:
    """A JSON integer of a body or a decimal integer of a query; invalidValue otherwise."""
    if value is None or (value == "" and not from_body):
        return default
    if from_body and isinstance(value, int) and not isinstance(value, bool):
        return value
    if not from_body and _DECIMAL.fullmatch(value):
        # Past 18 digits only the sign matters (every bound here is smaller), and int() takes
        # no more than 4,300 digits.
        digits = value.lstrip("+-").lstrip("0")
        magnitude = int(digits or "0") if len(digits) <= 18 else 10**18
        return -magnitude if value.startswith("-") else magnitude
    raise ScimProblem(f"`{name}` must be an integer", scim_type="invalidValue")


def _list_args(source: dict[str, Any], *, from_body: bool) -> dict[str, Any]:
    """filter, startIndex (1-based, 1..MAX_START_INDEX), count (0..maxResults), attribute lists."""
    # RFC 7644 §3.4.2.4: a startIndex below 1 is 1 and a negative count is 0.
    start = _integer(source.get("startIndex"), "startIndex", 1, from_body=from_body)
    start = min(max(1, start), MAX_START_INDEX)
    count = _integer(source.get("count"), "count", discovery.MAX_RESULTS, from_body=from_body)
    count = min(max(0, count), discovery.MAX_RESULTS)
    filter_ = source.get("filter")
    if filter_ is not None and not isinstance(filter_, str):
        raise ScimProblem("`filter` must be a string", scim_type="invalidFilter")
    if from_body:
        attributes = source.get("attributes")
        excluded = source.get("excludedAttributes")
        for name, value in (("attributes", attributes), ("excludedAttributes", excluded)):
            if value is not None and not (
                isinstance(value, list) and all(isinstance(v, str) for v in value)
            ):
                raise ScimProblem(f"`{name}` must be a list of strings", scim_type="invalidValue")
    else:
        attributes = split_attributes(source.get("attributes"))
        excluded = split_attributes(source.get("excludedAttributes"))
    return {
        "filter_": filter_ or None,
        "start_index": start,
        "count": count,
        "attributes": attributes,
        "excluded": excluded,
    }


def _search_body() -> dict[str, Any]:
    body = json_body()
    if not isinstance(body, dict):
        raise ScimProblem("send a SearchRequest JSON object", scim_type="invalidSyntax")
    schemas = body.get("schemas")
    if schemas is not None and SEARCH_REQUEST not in schemas:
        raise ScimProblem(
            f"the schemas of a search are [{SEARCH_REQUEST}]", scim_type="invalidSyntax"
        )
    return body


def _list_answer(total: int, start: int, resources: list[dict[str, Any]]) -> Response:
    return _answer(
        {
            "schemas": [LIST_RESPONSE],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": len(resources),
            "Resources": resources,
        }
    )


def _list_users(args: dict[str, Any]) -> Response:
    total, found = users.list_users(
        db_session(),
        filter_=args["filter_"],
        start_index=args["start_index"],
        count=args["count"],
    )
    base = _base_url()
    resources = [
        project(user_resource(a, base), "user", args["attributes"], args["excluded"]) for a in found
    ]
    return _list_answer(total, args["start_index"], resources)


def _wants_members(args: dict[str, Any]) -> bool:
    def named(values: list[str] | None) -> bool:
        return any(v.lower().split(":")[-1].split(".")[0] == "members" for v in values or [])

    if args["attributes"]:
        return named(args["attributes"])
    return not named(args["excluded"])


def _list_groups(args: dict[str, Any]) -> Response:
    session = db_session()
    total, found = groups.list_groups(
        session, filter_=args["filter_"], start_index=args["start_index"], count=args["count"]
    )
    # Entra lists groups with excludedAttributes=members: then no member is read at all.
    listed = groups.members(session, found) if _wants_members(args) else {}
    base = _base_url()
    resources = [
        project(
            group_resource(g, listed.get(g.id), base), "group", args["attributes"], args["excluded"]
        )
        for g in found
    ]
    return _list_answer(total, args["start_index"], resources)


def _body() -> Any:
    return json_body()


@blp.post("/.search")
@audit_exempt(reason=_SEARCH)
def search_all() -> Response:
    """Users and then Groups found by one SearchRequest (RFC 7644 §3.4.3)"""
    args = _list_args(_search_body(), from_body=True)
    session = db_session()
    start, count = args["start_index"], args["count"]
    kinds = []
    # A filter naming an attribute one type lacks matches nothing of that type (§3.4.2.1).
    for kind, service in (("user", users.list_users), ("group", groups.list_groups)):
        try:
            total, _ = service(session, filter_=args["filter_"], start_index=1, count=0)
        except UnknownAttribute:
            continue
        kinds.append((kind, service, total))
    if not kinds:
        raise ScimProblem(
            "the filter names no attribute of any resource type", scim_type="invalidFilter"
        )
    base = _base_url()
    resources: list[dict[str, Any]] = []
    skip = start - 1
    for kind, service, total in kinds:
        wanted = count - len(resources)
        if skip >= total:
            skip -= total
            continue
        if wanted <= 0:
            break
        _, found = service(session, filter_=args["filter_"], start_index=skip + 1, count=wanted)
        # Accounts or groups, by the kind (the two services differ in their row type only).
        rows = cast("list[Any]", found)
        skip = 0
        if kind == "user":
            rendered = [user_resource(a, base) for a in rows]
        else:
            listed = groups.members(session, rows) if _wants_members(args) else {}
            rendered = [group_resource(g, listed.get(g.id), base) for g in rows]
        resources += [project(r, kind, args["attributes"], args["excluded"]) for r in rendered]
    return _list_answer(sum(total for *_, total in kinds), start, resources)


# --- discovery ------------------------------------------------------------------------


@blp.get("/ServiceProviderConfig")
def service_provider_config() -> Response:
    """The service provider's configuration (RFC 7643 §5)"""
    return _answer(discovery.service_provider_config(_base_url()))


@blp.get("/ResourceTypes")
def resource_types() -> Response:
    """The resource types: User (with the enterprise extension) and Group"""
    found = discovery.resource_types(_base_url())
    return _list_answer(len(found), 1, found)


@blp.get("/ResourceTypes/<name>")
def resource_type(name: str) -> Response:
    """One resource type"""
    found = discovery.resource_type(name, _base_url())
    if found is None:
        raise ScimProblem("no such resource type", status=404)
    return _answer(found)


@blp.get("/Schemas")
def schemas() -> Response:
    """The schemas, cut down to the stored attributes"""
    found = discovery.schemas(_base_url())
    return _list_answer(len(found), 1, found)


@blp.get("/Schemas/<urn>")
def schema(urn: str) -> Response:
    """One schema"""
    try:
        return _answer(discovery.schema(urn, _base_url()))
    except KeyError:
        raise ScimProblem("no such schema", status=404) from None


# --- Users ----------------------------------------------------------------------------


@blp.get("/Users")
def list_users() -> Response:
    """Users, filtered and paged (startIndex/count) in a stable order"""
    return _list_users(_list_args(request.args.to_dict(), from_body=False))


@blp.post("/Users/.search")
@audit_exempt(reason=_SEARCH)
def search_users() -> Response:
    """Users found by a SearchRequest"""
    return _list_users(_list_args(_search_body(), from_body=True))


@blp.post("/Users")
def create_user() -> Response:
    """Create a user: an account with source `scim`"""
    account = users.create_user(db_session(), current_ctx(), body=_body())
    return _resource_answer(user_resource(account, _base_url()), "user", 201)


@blp.get("/Users/<user_id>")
def get_user(user_id: str) -> Response:
    """Read a user (a disabled account is returned with active false)"""
    account = users.get_user(db_session(), user_id=user_id)
    return _resource_answer(user_resource(account, _base_url()), "user")


@blp.put("/Users/<user_id>")
def replace_user(user_id: str) -> Response:
    """Replace a user's attributes"""
    account, changed = users.replace_user(
        db_session(), current_ctx(), user_id=user_id, body=_body(), if_match=optional_if_match()
    )
    if not changed:
        exempt_from_audit(_UNCHANGED)
    return _resource_answer(user_resource(account, _base_url()), "user")


@blp.patch("/Users/<user_id>")
def patch_user(user_id: str) -> Response:
    """Change a user with PATCH operations; answers the user (200)"""
    account, changed = users.patch_user(
        db_session(), current_ctx(), user_id=user_id, body=_body(), if_match=optional_if_match()
    )
    if not changed:
        exempt_from_audit(_UNCHANGED)
    return _resource_answer(user_resource(account, _base_url()), "user")


@blp.delete("/Users/<user_id>")
def delete_user(user_id: str) -> Response:
    """Delete a user: the account's soft delete (grace period)"""
    users.delete_user(db_session(), current_ctx(), user_id=user_id, if_match=optional_if_match())
    return Response(status=204)


# --- Groups ---------------------------------------------------------------------------


@blp.get("/Groups")
def list_groups() -> Response:
    """Groups, filtered and paged (startIndex/count) in a stable order"""
    return _list_groups(_list_args(request.args.to_dict(), from_body=False))


@blp.post("/Groups/.search")
@audit_exempt(reason=_SEARCH)
def search_groups() -> Response:
    """Groups found by a SearchRequest"""
    return _list_groups(_list_args(_search_body(), from_body=True))


def _group_answer(group: Any, status: int = 200) -> Response:
    session = db_session()
    listed = groups.members(session, [group])
    return _resource_answer(group_resource(group, listed[group.id], _base_url()), "group", status)


@blp.post("/Groups")
def create_group() -> Response:
    """Create a group"""
    group = groups.create_group(db_session(), current_ctx(), body=_body())
    return _group_answer(group, 201)


@blp.get("/Groups/<group_id>")
def get_group(group_id: str) -> Response:
    """Read a group with its members"""
    return _group_answer(groups.get_group(db_session(), group_id=group_id))


@blp.put("/Groups/<group_id>")
def replace_group(group_id: str) -> Response:
    """Replace a group's name, external id and members"""
    group, changed = groups.replace_group(
        db_session(), current_ctx(), group_id=group_id, body=_body(), if_match=optional_if_match()
    )
    if not changed:
        exempt_from_audit(_UNCHANGED)
    return _group_answer(group)


@blp.patch("/Groups/<group_id>")
def patch_group(group_id: str) -> Response:
    """Change a group with PATCH operations; answers 204 as Entra expects"""
    group, changed = groups.patch_group(
        db_session(), current_ctx(), group_id=group_id, body=_body(), if_match=optional_if_match()
    )
    if not changed:
        exempt_from_audit(_UNCHANGED)
    return Response(status=204, headers={"ETag": version_of(group.id, group.version)})


@blp.delete("/Groups/<group_id>")
def delete_group(group_id: str) -> Response:
    """Delete a group (its member accounts stay)"""
    groups.delete_group(
        db_session(), current_ctx(), group_id=group_id, if_match=optional_if_match()
    )
    return Response(status=204)
