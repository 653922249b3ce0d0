"""Accounts and groups as SCIM resources, and SCIM payloads as account and group fields.

Responses are built as plain dicts (the hot path: a filtered GET renders them for every
match); requests are read and patched with scim2-models, which knows RFC 7643's types,
mutability and PATCH semantics. Only what an account stores is published (scim/discovery.py)
and returned; other attributes a client sends (title, phoneNumbers, …) are not kept.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from scim2_models import EnterpriseUser, Group, Resource, User
from sqlalchemy import Row

from ..accounts.fields import FIELDS, Kind
from ..accounts.models import Account, AccountStatus
from ..common.conditional import etag_of
from ..common.schemas import UNSTORABLE
from ..groups.models import Group as GroupRow
from ..groups.service import Member
from .errors import ScimProblem
from .filters import ENTERPRISE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA

UserModel = User[EnterpriseUser]
_CORE_SCHEMAS = {"user": USER_SCHEMA, "group": GROUP_SCHEMA}
_ALWAYS = frozenset({"schemas", "id"})


def _strings(*, enterprise: bool, parent: str | None = None) -> dict[str, str]:
    """SCIM attribute → account field, for the string attributes of accounts/fields.py: the
    simple ones of the core schema or the enterprise extension, or the sub-attributes of
    ``parent``."""
    found: dict[str, str] = {}
    for field in FIELDS.values():
        if field.scim is None or field.scim.enterprise != enterprise or field.kind is not Kind.text:
            continue
        outer, _, inner = field.scim.attribute.rpartition(".")
        if (outer or None) == parent:
            found[inner] = field.name
    return found


# Simple string attributes (userName, title, …; costCenter, …): SCIM name → account column.
CORE_STRINGS = _strings(enterprise=False)
ENTERPRISE_STRINGS = _strings(enterprise=True)
# The sub-attributes of `name` an account stores.
NAME_PARTS = _strings(enterprise=False, parent="name")


def _time(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def version_of(resource_id: uuid.UUID, version: int) -> str:
    """meta.version and the ETag header: the resource's strong ETag, the one REST answers too.

    RFC 7644 §3.14 shows weak tags in its examples but lets the provider choose; a strong tag
    is what If-Match compares (RFC 9110 §13.1.1), so one precondition check serves SCIM and
    REST alike.
    """
    return etag_of(resource_id, version)


def _meta(kind: str, row: Any, location: str) -> dict[str, str]:
    return {
        "resourceType": kind,
        "created": _time(row.created_at),
        "lastModified": _time(row.updated_at),
        "location": location,
        "version": version_of(row.id, row.version),
    }


# What user_resource reads of an account: listings select these columns alone (scim/users.py).
USER_COLUMNS = tuple(
    getattr(Account, name)
    for name in (
        "id",
        "version",
        "created_at",
        "updated_at",
        "status",
        "email",
        "email_type",
        "email_primary",
        "manager_id",
        *CORE_STRINGS.values(),
        *NAME_PARTS.values(),
        *ENTERPRISE_STRINGS.values(),
    )
)


def user_resource(account: Account | Row[Any], base_url: str) -> dict[str, Any]:
    """The SCIM User of an account, or of a row of its USER_COLUMNS (core and enterprise)."""
    resource: dict[str, Any] = {"schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA], "id": str(account.id)}
    for attribute, column in CORE_STRINGS.items():
        value = getattr(account, column)
        if value is not None:
            resource[attribute] = value
    name = {
        part: value
        for part, column in NAME_PARTS.items()
        if (value := getattr(account, column)) is not None
    }
    if name:
        resource["name"] = name
    if account.email is not None:
        # One address per account, with the type and primary flag a client sent (if any).
        email: dict[str, Any] = {"value": account.email}
        if account.email_type is not None:
            email["type"] = account.email_type
        if account.email_primary is not None:
            email["primary"] = account.email_primary
        resource["emails"] = [email]
    resource["active"] = account.status is AccountStatus.active
    enterprise: dict[str, Any] = {}
    for attribute, column in ENTERPRISE_STRINGS.items():
        value = getattr(account, column)
        if value is not None:
            enterprise[attribute] = value
    if account.manager_id is not None:
        enterprise["manager"] = {
            "value": str(account.manager_id),
            "$ref": f"{base_url}/Users/{account.manager_id}",
        }
    if enterprise:
        resource[ENTERPRISE_SCHEMA] = enterprise
    resource["meta"] = _meta("User", account, f"{base_url}/Users/{account.id}")
    return resource


def group_resource(
    group: GroupRow, members: Sequence[Member] | None, base_url: str
) -> dict[str, Any]:
    """The SCIM Group of a group; ``members`` None leaves them out (not asked for)."""
    resource: dict[str, Any] = {"schemas": [GROUP_SCHEMA], "id": str(group.id)}
    if group.external_id is not None:
        resource["externalId"] = group.external_id
    resource["displayName"] = group.display_name
    if members:
        resource["members"] = [
            {"value": str(m.account_id), "$ref": f"{base_url}/Users/{m.account_id}", "type": "User"}
            for m in members
        ]
    resource["meta"] = _meta("Group", group, f"{base_url}/Groups/{group.id}")
    return resource


# --- attributes / excludedAttributes (RFC 7644 §3.4.2.5) ---------------------------------


def _keys_of(path: str, kind: str) -> list[str]:
    """The lowercase key path of an attribute name: `name.givenName`, `urn:…:User:manager`."""
    lowered = path.strip().lower()
    for urn in (_CORE_SCHEMAS[kind], ENTERPRISE_SCHEMA if kind == "user" else None):
        if urn is None:
            continue
        urn_lower = urn.lower()
        if lowered == urn_lower:
            return [] if urn_lower == _CORE_SCHEMAS[kind].lower() else [urn_lower]
        if lowered.startswith(urn_lower + ":"):
            rest = lowered[len(urn_lower) + 1 :].split(".")
            return rest if urn_lower == _CORE_SCHEMAS[kind].lower() else [urn_lower, *rest]
    return lowered.split(".")


def _find(node: dict[str, Any], name: str) -> str | None:
    for candidate in node:
        if candidate.lower() == name:
            return candidate
    return None


def _copy(source: Any, target: dict[str, Any], keys: list[str]) -> None:
    name = _find(source, keys[0]) if isinstance(source, dict) else None
    if name is None:
        return
    value = source[name]
    if len(keys) == 1:
        target[name] = copy.deepcopy(value)
    elif isinstance(value, list):
        items = target.setdefault(name, [{} for _ in value])
        for item, part in zip(value, items, strict=False):
            _copy(item, part, keys[1:])
    elif isinstance(value, dict):
        _copy(value, target.setdefault(name, {}), keys[1:])


def _drop(node: Any, keys: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _drop(item, keys)
        return
    name = _find(node, keys[0]) if isinstance(node, dict) else None
    if name is None or (len(keys) == 1 and name in _ALWAYS):
        return
    if len(keys) == 1:
        del node[name]
    else:
        _drop(node[name], keys[1:])


def project(
    resource: dict[str, Any],
    kind: str,
    attributes: Sequence[str] | None,
    excluded: Sequence[str] | None,
) -> dict[str, Any]:
    """The resource with only the asked attributes, or without the excluded ones."""
    if attributes:
        projected = {k: resource[k] for k in _ALWAYS if k in resource}
        for path in attributes:
            keys = _keys_of(path, kind)
            if keys:
                _copy(resource, projected, keys)
            else:
                return resource
        return {k: projected[k] for k in resource if k in projected}
    if excluded:
        for path in excluded:
            keys = _keys_of(path, kind)
            if keys:
                _drop(resource, keys)
    return resource


def split_attributes(value: str | None) -> list[str] | None:
    """`attributes=userName,name.givenName` → the names."""
    if not value:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


# --- requests → fields ------------------------------------------------------------------

_ACCOUNT_LENGTHS = {
    field.name: field.max_length for field in FIELDS.values() if field.max_length is not None
}
_GROUP_LENGTHS = {"display_name": 256, "external_id": 255}
# How errors name a field: its SCIM attribute.
_SCIM_NAMES = {field.name: field.scim.attribute for field in FIELDS.values() if field.scim}


def _checked(fields: dict[str, Any], lengths: dict[str, int]) -> dict[str, Any]:
    """Refuse values no column can hold (too long, control characters, blank) as invalidValue."""
    for field, value in fields.items():
        if not isinstance(value, str):
            continue
        name = _SCIM_NAMES.get(field, field)
        if not value.strip():
            raise ScimProblem(f"`{name}` must not be blank", scim_type="invalidValue")
        if UNSTORABLE.search(value):
            raise ScimProblem(
                f"`{name}` must not contain control characters", scim_type="invalidValue"
            )
        limit = lengths.get(field)
        if limit is not None and len(value) > limit:
            raise ScimProblem(
                f"`{name}` is longer than {limit} characters", scim_type="invalidValue"
            )
    return fields


def _snake(name: str) -> str:
    """scim2-models' field name of a SCIM attribute: `preferredLanguage` → preferred_language."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _uuid(value: str | None, name: str) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ScimProblem(
            f"`{name}` is not the id of a resource here", scim_type="invalidValue"
        ) from None


def account_fields(user: Resource[Any]) -> tuple[dict[str, Any], bool | None]:
    """The account fields a SCIM User sets (all of them: absent means none) and `active`."""
    assert isinstance(user, User)  # noqa: S101 - parsed by the caller as this model
    name = user.name
    given = name.given_name if name else None
    family = name.family_name if name else None
    display = user.display_name or (name.formatted if name else None)
    if not display:
        display = " ".join(p for p in (given, family) if p) or user.user_name
    # An entry without an address (a lone `emails[type eq "work"].primary` operation makes
    # one) says nothing about the address.
    emails = [e for e in user.emails or [] if e.value]
    # Entra writes emails[type eq "work"].value, which adds a work entry beside one without
    # a type: the work address wins, then the primary one, then the first.
    primary = (
        next((e for e in emails if e.type == "work"), None)
        or next((e for e in emails if e.primary), None)
        or (emails[0] if emails else None)
    )
    enterprise = user[EnterpriseUser]
    manager = enterprise.manager.value if enterprise and enterprise.manager else None
    fields: dict[str, Any] = {
        column: getattr(user, _snake(attribute)) for attribute, column in CORE_STRINGS.items()
    }
    fields["display_name"] = display
    for part, column in NAME_PARTS.items():
        fields[column] = getattr(name, _snake(part)) if name else None
    fields["email"] = primary.value if primary else None
    fields["email_type"] = primary.type if primary else None
    fields["email_primary"] = primary.primary if primary else None
    fields["manager_id"] = _uuid(manager, "manager")
    for attribute, column in ENTERPRISE_STRINGS.items():
        fields[column] = getattr(enterprise, _snake(attribute)) if enterprise else None
    return _checked(fields, _ACCOUNT_LENGTHS), user.active


def user_model(account: Account) -> Resource[Any]:
    """The account as a scim2-models User, for PATCH to work on."""
    data = user_resource(account, "")
    data.pop("meta")
    manager = data.get(ENTERPRISE_SCHEMA, {}).get("manager")
    if manager:
        manager.pop("$ref")
    return UserModel.model_validate(data)


def group_fields(group: Resource[Any]) -> tuple[dict[str, Any], set[uuid.UUID]]:
    """The group fields and member account ids a SCIM Group sets."""
    assert isinstance(group, Group)  # noqa: S101 - parsed by the caller as this model
    if not group.display_name:
        raise ScimProblem("`displayName` is required", scim_type="invalidValue")
    fields = _checked(
        {"display_name": group.display_name, "external_id": group.external_id}, _GROUP_LENGTHS
    )
    members = set()
    for member in group.members or []:
        found = _uuid(member.value, "members.value")
        if found is None:
            raise ScimProblem("a member needs its `value`", scim_type="invalidValue")
        members.add(found)
    return fields, members


def group_model(group: GroupRow, members: Sequence[Member]) -> Resource[Any]:
    """The group as a scim2-models Group, for PATCH to work on."""
    data = group_resource(group, members, "")
    data.pop("meta")
    for member in data.get("members", []):
        member.pop("$ref")
    return Group.model_validate(data)
