"""The account field table (accounts/fields.py) is the one place an account's fields are defined.

The model, the REST schemas, the services, the list, SCIM, the Graph sync and the benchmark's
bare baseline all follow it; an account with every field set shows each one everywhere the
table says; and no other module names a plain profile attribute.
"""

from __future__ import annotations

import ast
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from bench import bare_app
from sqlalchemy import Boolean, Date, Enum, String, Uuid

from facito_admin.accounts.fields import FIELDS, INTERNAL_COLUMNS, Access, Check, Field, Kind
from facito_admin.accounts.models import Account
from facito_admin.accounts.schemas import AccountCreateSchema, AccountSchema, AccountUpdateSchema
from facito_admin.accounts.service import EDITABLE
from facito_admin.db.base import UTCDateTime, utcnow
from facito_admin.directory_sync import graph, mapping
from tests.api.accounts.helpers import account_url, accounts_url
from tests.conftest import Org
from tests.factories.accounts import birth_date_for_age, make_account

ADMIN = "Organisation.Admin"
SCIM = "/scim/v2"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
# RFC 7643 §3.1: every resource has these; no schema lists them.
COMMON_SCIM = frozenset({"id", "externalId", "meta"})
ROOT = Path(__file__).resolve().parents[3]
COLUMN_TYPES = {
    Kind.text: String,
    Kind.uuid: Uuid,
    Kind.instant: UTCDateTime,
    Kind.date: Date,
    Kind.bool: Boolean,
    Kind.enum: Enum,
}


def _names(access: Access | tuple[Access, ...]) -> list[str]:
    wanted = access if isinstance(access, tuple) else (access,)
    return [f.name for f in FIELDS.values() if f.access in wanted]


def test_every_field_is_a_model_column_of_its_kind_length_and_nullability():
    columns = Account.__table__.columns
    for field in FIELDS.values():
        column = columns[field.name]
        assert isinstance(column.type, COLUMN_TYPES[field.kind]), field.name
        assert column.nullable == field.nullable, field.name
        if field.kind is Kind.text:
            assert column.type.length == field.max_length, field.name
        if field.key:
            assert columns[field.key].type.length == field.max_length, field.key
        if field.enum:
            assert column.type.enum_class is field.enum, field.name


def test_every_other_model_column_is_a_key_or_bookkeeping_no_api_shows():
    assert set(Account.__table__.columns.keys()) == set(FIELDS) | INTERNAL_COLUMNS
    assert not set(FIELDS) & INTERNAL_COLUMNS


def test_the_account_schema_shows_every_field_but_the_integration_only_ones_in_table_order():
    shown = [f.name for f in FIELDS.values() if f.access is not Access.integration]
    assert list(AccountSchema().fields) == shown


def test_the_requests_take_exactly_the_editable_fields_and_on_create_the_create_only_ones():
    editable = set(_names(Access.editable))
    assert set(AccountUpdateSchema().fields) == editable
    assert set(AccountCreateSchema().fields) == editable | set(_names(Access.create))
    required = {name for name, field in AccountCreateSchema().fields.items() if field.required}
    assert required == {f.name for f in FIELDS.values() if f.required}
    assert not any(field.required for field in AccountUpdateSchema().fields.values())


def test_the_services_let_administrators_and_integrations_set_exactly_the_editable_fields():
    assert list(EDITABLE) == _names((Access.editable, Access.integration))


def test_the_graph_select_asks_for_every_field_with_a_graph_property_and_nothing_else():
    assert sorted(graph.SELECT.split(",")) == sorted(f.graph for f in FIELDS.values() if f.graph)


def test_a_graph_user_with_every_property_fills_every_field_that_has_one():
    oid = str(uuid.uuid4())
    raw: dict[str, Any] = {f.graph: f"{f.name} value" for f in FIELDS.values() if f.graph}
    raw |= {"id": oid, "accountEnabled": False}
    user = mapping.parse_user(raw, complete=True)

    assert user is not None
    assert (user.oid, user.enabled) == (oid, False)  # entra_oid and status
    carried = {f.name for f in FIELDS.values() if f.graph} - {"entra_oid", "status"}
    assert user.fields == {name: f"{name} value" for name in carried}
    for name in carried:
        assert mapping.LIMITS[name] == FIELDS[name].max_length


# -- an account with every field set, everywhere ------------------------------------------------


def _sample(field: Field, manager_id: uuid.UUID) -> Any:
    """A valid value of an editable field, different from every other field's."""
    if field.check is Check.upn:
        return "ann.full@example.com"
    if field.check is Check.email:
        return "ann.jansen@example.com"
    if field.check is Check.guid:
        return str(uuid.uuid4())
    if field.check is Check.past:
        return birth_date_for_age(40)
    samples: dict[Kind, Callable[[], Any]] = {
        Kind.text: lambda: f"{field.name} x"[: field.max_length],
        Kind.uuid: lambda: manager_id,
        Kind.bool: lambda: False,
    }
    return samples[field.kind]()


@pytest.fixture
def full(runtime, org_a: Org) -> Iterator[dict[str, Any]]:
    """The editable fields of an account that has every one of them set."""
    boss = make_account(runtime, org_a.id, "boss")
    values = {
        name: _sample(FIELDS[name], boss.id)
        for name in _names((Access.editable, Access.integration))
    }
    account = make_account(runtime, org_a.id, "full", **values)
    yield {"id": str(account.id), **values}


def _json(value: Any) -> Any:
    return str(value) if isinstance(value, uuid.UUID | date) else value


def test_rest_and_the_list_show_every_field_of_a_full_account(client, org_a: Org, auth, full):
    admin = auth(org_a, ADMIN)
    shown = client.get(account_url(org_a, full["id"]), headers=admin).get_json()
    listed = client.get(accounts_url(org_a), headers=admin).get_json()["items"]

    assert next(item for item in listed if item["id"] == full["id"]) == shown
    for name in _names(Access.editable):
        assert shown[name] == _json(full[name]), name
    for name in _names(Access.integration):
        assert name not in shown


def test_scim_shows_every_field_with_a_scim_attribute_of_a_full_account(
    client, org_a: Org, auth, full
):
    token = client.post(
        f"/v1/organisations/{org_a.id}/scim-tokens",
        json={"description": "fields"},
        headers=auth(org_a, ADMIN),
    ).get_json()["token"]
    user = client.get(
        f"{SCIM}/Users/{full['id']}", headers={"Authorization": f"Bearer {token}"}
    ).get_json()

    for field in FIELDS.values():
        if field.scim is None:
            continue
        node: Any = user[ENTERPRISE] if field.scim.enterprise else user
        for part in field.scim.attribute.split("."):
            node = (node[0] if isinstance(node, list) else node)[part]
        assert node is not None, field.scim
        if field.name in full:
            assert node == _json(full[field.name]), field.scim
    assert user["active"] is True


def test_scim_schemas_publish_every_stored_attribute(client, org_a: Org, auth):
    token = client.post(
        f"/v1/organisations/{org_a.id}/scim-tokens",
        json={"description": "fields"},
        headers=auth(org_a, ADMIN),
    ).get_json()["token"]
    body = client.get(f"{SCIM}/Schemas", headers={"Authorization": f"Bearer {token}"}).get_json()
    published = {
        schema["id"]: {
            a["name"]: {s["name"] for s in a.get("subAttributes") or []}
            for a in schema["attributes"]
        }
        for schema in body["Resources"]
    }

    for field in FIELDS.values():
        if field.scim is None:
            continue
        attribute, _, sub = field.scim.attribute.partition(".")
        if attribute in COMMON_SCIM:
            continue
        attributes = published[ENTERPRISE if field.scim.enterprise else USER]
        assert attribute in attributes, field.scim
        assert not sub or sub in attributes[attribute], field.scim


def test_the_bare_benchmark_renders_a_full_account_as_the_api_does(
    client, runtime, org_a: Org, auth, full
):
    shown = client.get(account_url(org_a, full["id"]), headers=auth(org_a, ADMIN)).get_json()
    account_id = uuid.UUID(full["id"])
    with runtime.session(organisation_id=org_a.id) as session:
        connection = session.connection()
        sqlite = connection.dialect.name == "sqlite"
        where = "id = ?" if sqlite else "id = %s"
        sql = f"SELECT {bare_app.COLUMNS} FROM accounts WHERE {where}"  # noqa: S608 - our columns
        # The driver's values, as the bare app gets them.
        row = connection.exec_driver_sql(sql, (account_id.hex if sqlite else account_id,)).one()

    assert bare_app._item(tuple(row), utcnow().date()) == shown


# -- nothing else defines them ------------------------------------------------------------------

# Plain profile attributes: text an administrator or integration sets, with no rule of its own
# (no check, no uniqueness, no key). Code reads them from the table, by no name.
PLAIN = frozenset(
    f.name
    for f in FIELDS.values()
    if f.kind is Kind.text and f.access is Access.editable and not (f.check or f.unique or f.key)
)
# The table, the model's typed column (its length from the table) and the migrations name them.
DEFINING = ("src/facito_admin/accounts/fields.py", "src/facito_admin/accounts/models.py")
# Where a plain attribute is named for a rule of its own, and why.
NAMED_FOR_A_REASON = {
    # The list filters by department (an indexed column): query argument, view and statement.
    ("src/facito_admin/accounts/listing.py", "department"),
    ("src/facito_admin/accounts/schemas.py", "department"),
    ("src/facito_admin/accounts/views.py", "department"),
}


def _named(tree: ast.AST) -> set[str]:
    """Field-like names in a module: string constants, `Account.x`, and class attributes."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)
        elif isinstance(node, ast.Attribute) and getattr(node.value, "id", None) == "Account":
            names.add(node.attr)
        elif isinstance(node, ast.ClassDef):
            for statement in node.body:
                target = getattr(statement, "target", None) or next(
                    iter(getattr(statement, "targets", [])), None
                )
                if isinstance(target, ast.Name):
                    names.add(target.id)
    return names


def test_no_module_but_the_table_and_the_model_names_a_plain_profile_attribute():
    assert {"job_title", "cost_center", "given_name"} <= PLAIN
    modules = [*sorted((ROOT / "src/facito_admin").rglob("*.py")), ROOT / "bench/bare_app.py"]
    found = set()
    for path in modules:
        relative = path.relative_to(ROOT).as_posix()
        if relative in DEFINING or "/migrations/" in relative:
            continue
        for name in _named(ast.parse(path.read_text())) & PLAIN:
            found.add((relative, name))

    assert found == NAMED_FOR_A_REASON
