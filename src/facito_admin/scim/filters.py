"""SCIM filters (RFC 7644 §3.4.2.2) as SQLAlchemy conditions over accounts and groups.

scim2-models parses the filter (its lark grammar, with Entra's
`emails[type eq "work"].value eq "…"` form); this module only maps the parsed tree's
attributes to columns, so every filter runs in the database, never over rows in Python.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from scim2_models import ScimFilter
from scim2_models.exceptions import InvalidFilterException
from scim2_models.path import (
    AttrPath,
    CompareOperator,
    Comparison,
    FilterNode,
    FilterVisitor,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
)
from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    true,
)

from ..accounts.fields import FIELDS
from ..accounts.fields import Kind as FieldKind
from ..accounts.models import Account, AccountStatus
from ..accounts.rules import key
from ..common.schemas import UNSTORABLE
from ..groups.models import Group, GroupMember
from .errors import ScimProblem

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"


class Kind(Enum):
    folded = "folded"  # a casefolded key column: compare the casefolded value
    insensitive = "insensitive"  # a plain column compared without case (lower())
    exact = "exact"  # caseExact strings
    uuid = "uuid"
    boolean = "boolean"
    datetime = "datetime"


@dataclass(frozen=True)
class Attribute:
    """What a SCIM attribute is stored as."""

    kind: Kind
    column: Any = None
    # For membership tests: builds the condition from the compared value's column test.
    related: Callable[[Callable[[Any], ColumnElement[bool]]], ColumnElement[bool]] | None = None


def _members(test: Callable[[Any], ColumnElement[bool]]) -> ColumnElement[bool]:
    """Groups with a member (a live account) whose id passes ``test``."""
    return exists(
        select(GroupMember.account_id)
        .join(
            Account,
            and_(
                Account.organisation_id == GroupMember.organisation_id,
                Account.id == GroupMember.account_id,
            ),
        )
        .where(
            GroupMember.organisation_id == Group.organisation_id,
            GroupMember.group_id == Group.id,
            Account.status != AccountStatus.deleted,
            test(GroupMember.account_id),
        )
    )


USER_ATTRIBUTES: Mapping[str, Attribute] = {
    # Every stored string (accounts/fields.py) compares without case, or by its casefolded key;
    # the attributes below are compared otherwise.
    **{
        field.scim.attribute.lower(): Attribute(
            Kind.folded if field.key else Kind.insensitive,
            getattr(Account, field.key or field.name),
        )
        for field in FIELDS.values()
        if field.scim is not None and field.kind is FieldKind.text
    },
    "id": Attribute(Kind.uuid, Account.id),
    "externalid": Attribute(Kind.exact, Account.external_id),
    "emails": Attribute(Kind.folded, Account.email_key),
    "active": Attribute(Kind.boolean, Account.status),
    "meta.created": Attribute(Kind.datetime, Account.created_at),
    "meta.lastmodified": Attribute(Kind.datetime, Account.updated_at),
    "manager": Attribute(Kind.uuid, Account.manager_id),
    "manager.value": Attribute(Kind.uuid, Account.manager_id),
}

GROUP_ATTRIBUTES: Mapping[str, Attribute] = {
    "id": Attribute(Kind.uuid, Group.id),
    "externalid": Attribute(Kind.exact, Group.external_id),
    "displayname": Attribute(Kind.folded, Group.name_key),
    "members": Attribute(Kind.uuid, related=_members),
    "members.value": Attribute(Kind.uuid, related=_members),
    "meta.created": Attribute(Kind.datetime, Group.created_at),
    "meta.lastmodified": Attribute(Kind.datetime, Group.updated_at),
}

# The URNs an attribute may be qualified with, per resource.
_SCHEMAS = {
    "user": (USER_SCHEMA.lower(), ENTERPRISE_SCHEMA.lower()),
    "group": (GROUP_SCHEMA.lower(),),
}


# Terms (comparisons and `pr` tests) one filter may have. SQLite refuses an expression deeper
# than 1,000 (500 `and` terms failed as "the database did not answer") and 20,000 terms took
# 2.9 s on PostgreSQL; 200 run on both (tests/api/scim/test_scim_limits.py). Beyond it:
# 400 invalidFilter. Published in the README's SCIM section (see discovery.py).
MAX_FILTER_TERMS = 200
# A string literal, skipped whole (its text is no operator; an unterminated one runs to the
# end, so that no quote is scanned twice), or an operator standing alone.
_OPERATORS = re.compile(
    r'"(?:[^"\\]|\\.)*+(?:"|\\?\Z)'
    r"|(?<![\w.:$-])(eq|ne|co|sw|ew|gt|ge|lt|le|pr)(?![\w.:$-])",
    re.IGNORECASE | re.DOTALL,
)


class UnknownAttribute(ScimProblem):
    """A filter names an attribute the resource type does not store (invalidFilter)."""


def _invalid(detail: str) -> ScimProblem:
    return ScimProblem(detail, scim_type="invalidFilter")


def _stored_form(attribute: Attribute, value: str) -> tuple[Any, str]:
    """The column expression and value a string attribute compares: the forms stored
    (casefolded keys, lowercased plain columns, exact ones as is)."""
    if attribute.kind is Kind.folded:
        return attribute.column, key(value)
    if attribute.kind is Kind.insensitive:
        return func.lower(attribute.column), value.lower()
    return attribute.column, value


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _string_test(column: Any, op: CompareOperator, value: str) -> ColumnElement[bool]:
    pattern = _like(value)
    tests: dict[CompareOperator, Callable[[], Any]] = {
        CompareOperator.eq: lambda: column == value,
        CompareOperator.ne: lambda: or_(column.is_(None), column != value),
        CompareOperator.co: lambda: column.like(f"%{pattern}%", escape="\\"),
        CompareOperator.sw: lambda: column.like(f"{pattern}%", escape="\\"),
        CompareOperator.ew: lambda: column.like(f"%{pattern}", escape="\\"),
        CompareOperator.gt: lambda: column > value,
        CompareOperator.ge: lambda: column >= value,
        CompareOperator.lt: lambda: column < value,
        CompareOperator.le: lambda: column <= value,
    }
    return tests[op]()  # type: ignore[no-any-return]


def _ordered(column: Any, op: CompareOperator, value: Any) -> ColumnElement[bool]:
    tests: dict[CompareOperator, Callable[[], Any]] = {
        CompareOperator.eq: lambda: column == value,
        CompareOperator.ne: lambda: or_(column.is_(None), column != value),
        CompareOperator.gt: lambda: column > value,
        CompareOperator.ge: lambda: column >= value,
        CompareOperator.lt: lambda: column < value,
        CompareOperator.le: lambda: column <= value,
    }
    if op not in tests:
        raise _invalid(f"`{op.value}` compares strings only")
    return tests[op]()  # type: ignore[no-any-return]


class _SqlFilter(FilterVisitor[ColumnElement[bool]]):
    def __init__(self, resource: str, attributes: Mapping[str, Attribute]) -> None:
        self.resource = resource
        self.attributes = attributes

    def _name(self, path: AttrPath, parent: str | None = None) -> str:
        if path.uri is not None and path.uri.lower() not in _SCHEMAS[self.resource]:
            raise _invalid(f"{path.uri} is not a schema of this resource")
        name = path.attr.lower()
        if path.sub_attr:
            name = f"{name}.{path.sub_attr.lower()}"
        return f"{parent}.{name}" if parent else name

    def _attribute(self, name: str) -> Attribute:
        found = self.attributes.get(name)
        if found is None:
            raise UnknownAttribute(
                f"cannot filter on `{name}`: not an attribute this service stores",
                scim_type="invalidFilter",
            )
        return found

    def compare(self, name: str, op: CompareOperator, value: Any) -> ColumnElement[bool]:
        attribute = self._attribute(name)
        kind = attribute.kind
        if kind is Kind.uuid:
            return self._uuid(attribute, op, value)
        if kind in (Kind.boolean, Kind.datetime):
            return self._typed(name, attribute, op, value)
        column = attribute.column
        if value is None:
            return column.is_(None) if op is CompareOperator.eq else column.is_not(None)  # type: ignore[no-any-return]
        if not isinstance(value, str):
            raise _invalid(f"`{name}` is compared to a string")
        # Nothing stored holds control characters or lone surrogates, and the databases refuse
        # to bind some of them (a filter's \u escapes can spell them): no match is possible.
        if UNSTORABLE.search(value):
            raise _invalid(f"`{name}` is compared to a string with control characters")
        column, value = _stored_form(attribute, value)
        return _string_test(column, op, value)

    def _typed(
        self, name: str, attribute: Attribute, op: CompareOperator, value: Any
    ) -> ColumnElement[bool]:
        if attribute.kind is Kind.boolean:
            if not isinstance(value, bool) or op not in (CompareOperator.eq, CompareOperator.ne):
                raise _invalid(f"`{name}` is compared with eq or ne to true or false")
            active = (value is True) == (op is CompareOperator.eq)
            column = attribute.column
            return column == AccountStatus.active if active else column != AccountStatus.active  # type: ignore[no-any-return]
        try:
            instant = datetime.fromisoformat(str(value))
        except ValueError:
            raise _invalid(f"`{name}` is compared to a dateTime") from None
        if instant.tzinfo is None:
            raise _invalid(f"`{name}` is compared to a dateTime with its zone")
        try:
            instant = instant.astimezone(UTC)
        except OverflowError:
            raise _invalid(f"`{name}` is compared to a dateTime out of range") from None
        return _ordered(attribute.column, op, instant)

    def _uuid(self, attribute: Attribute, op: CompareOperator, value: Any) -> ColumnElement[bool]:
        if op not in (CompareOperator.eq, CompareOperator.ne) or not isinstance(value, str):
            raise _invalid("ids are compared with eq or ne to a string")
        try:
            wanted = uuid.UUID(value)
        except ValueError:
            wanted = None
        if attribute.related is not None:
            if wanted is None:
                return false() if op is CompareOperator.eq else true()
            found = attribute.related(lambda column: column == wanted)
            return found if op is CompareOperator.eq else not_(found)
        column = attribute.column
        if wanted is None:
            # No stored id has this form: eq matches nothing, ne everything (with a value).
            return false() if op is CompareOperator.eq else column.is_not(None)
        return (
            column == wanted
            if op is CompareOperator.eq
            else or_(column.is_(None), column != wanted)
        )

    def visit_comparison(self, node: Comparison) -> ColumnElement[bool]:
        return self.compare(self._name(node.attr_path), node.op, node.value)

    def visit_present(self, node: Present) -> ColumnElement[bool]:
        name = self._name(node.attr_path)
        attribute = self._attribute(name)
        if attribute.related is not None:
            return attribute.related(lambda _column: true())
        if attribute.kind is Kind.boolean:
            return true()
        column = attribute.column
        if attribute.kind in (Kind.folded, Kind.insensitive, Kind.exact):
            return and_(column.is_not(None), column != "")
        return column.is_not(None)  # type: ignore[no-any-return]

    def visit_not(self, node: Not) -> ColumnElement[bool]:
        return not_(self.visit(node.expr))

    def visit_logical_expr(self, node: LogicalExpr) -> ColumnElement[bool]:
        terms = [self.visit(term) for term in node.terms]
        return and_(*terms) if node.op is LogicalOperator.and_ else or_(*terms)

    def visit_value_path(self, node: ValuePath) -> ColumnElement[bool]:
        # emails[type eq "work" and value co "@x"], members[value eq "…"]: the inner filter
        # names sub-attributes of the selected attribute.
        return _Within(self, self._name(node.attr_path)).visit(node.val_filter)


class _Within(_SqlFilter):
    def __init__(self, outer: _SqlFilter, parent: str) -> None:
        super().__init__(outer.resource, outer.attributes)
        self.parent = parent

    def visit_comparison(self, node: Comparison) -> ColumnElement[bool]:
        return self.compare(self._name(node.attr_path, self.parent), node.op, node.value)

    def visit_present(self, node: Present) -> ColumnElement[bool]:
        return super().visit_present(
            Present(AttrPath(self.parent.split(".")[0], node.attr_path.attr))
        )

    def visit_value_path(self, node: ValuePath) -> ColumnElement[bool]:
        raise _invalid("value selections do not nest")


def count_terms(expression: str) -> int:
    """The attribute comparisons and presence tests of a filter, counted in its source.

    Each has exactly one operator outside the string literals (RFC 7644 §3.4.2.2), and counting
    them needs no parse: a filter far over the bound costs no more than reading it once.
    """
    return sum(1 for found in _OPERATORS.finditer(expression) if found.group(1))


def parse_filter(expression: str) -> FilterNode:
    """The tree of a filter of at most MAX_FILTER_TERMS terms; invalidFilter otherwise."""
    if count_terms(expression) > MAX_FILTER_TERMS:
        raise _invalid(
            f"a filter has at most {MAX_FILTER_TERMS} terms (comparisons and presence tests)"
        )
    try:
        return ScimFilter(expression).ast
    except InvalidFilterException as error:
        raise _invalid(f"invalid filter: {error.detail}") from None


# `userName eq "…"`, the lookup Entra sends before every create: one equality on a plain
# attribute name with a literal free of escapes and control characters, spaced as Entra does.
# Whatever this does not match goes through the parser (which reads these the same way).
_EQUALITY = re.compile(r'([A-Za-z][A-Za-z0-9]*) eq "([^"\\\x00-\x1f\x7f]*)"')
_STRING_KINDS = (Kind.folded, Kind.insensitive, Kind.exact)
EQUALITY_VALUE = "scim_equality_value"


def user_equality(expression: str) -> tuple[str, str] | None:
    """A filter that is one equality on a stored string of Users: the attribute (lowercase)
    and the value in its stored form; None for any other filter (user_condition reads it)."""
    found = _EQUALITY.fullmatch(expression)
    if found is None:
        return None
    name, value = found.group(1).lower(), found.group(2)
    attribute = USER_ATTRIBUTES.get(name)
    if attribute is None or attribute.kind not in _STRING_KINDS or UNSTORABLE.search(value):
        return None  # the parser's path answers these (invalidFilter)
    return name, _stored_form(attribute, value)[1]


@functools.cache
def user_equality_condition(name: str) -> ColumnElement[bool]:
    """The condition of ``user_equality``'s attribute, its value the EQUALITY_VALUE parameter:
    built once per attribute, so its statements can be too (scim/users.py)."""
    column, _ = _stored_form(USER_ATTRIBUTES[name], "")
    return column == bindparam(EQUALITY_VALUE, type_=USER_ATTRIBUTES[name].column.type)  # type: ignore[no-any-return]


def user_condition(expression: str) -> ColumnElement[bool]:
    """The SQL condition of a filter on Users."""
    return _SqlFilter("user", USER_ATTRIBUTES).visit(parse_filter(expression))


def group_condition(expression: str) -> ColumnElement[bool]:
    """The SQL condition of a filter on Groups."""
    return _SqlFilter("group", GROUP_ATTRIBUTES).visit(parse_filter(expression))
