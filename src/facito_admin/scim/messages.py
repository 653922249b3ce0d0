"""Reading SCIM request bodies with scim2-models, tolerant of Microsoft Entra's shapes."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import ValidationError
from scim2_models import Context, Error, PatchOp, Resource, ScimPolicy
from scim2_models.exceptions import SCIMException

from .errors import ScimProblem
from .filters import ENTERPRISE_SCHEMA

R = TypeVar("R", bound=Resource[Any])

# Entra sends `Remove` with a value list of members to remove, and `Replace` on
# emails[type eq "work"].value of a user without one; attributes no model declares (custom
# extensions in Entra's mappings) are dropped rather than failing the whole provisioning.
POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)
_MANAGER_KEYS = frozenset({"manager", f"{ENTERPRISE_SCHEMA}:manager".lower()})
# Operations one PATCH may carry (50,000 took ~10 s); Entra sends a few per change. Beyond it:
# 413 tooMany, as RFC 7644 §3.7.4 answers a Bulk request over its maxOperations. Published in
# the README's SCIM section (discovery.py says why not in ServiceProviderConfig).
MAX_PATCH_OPERATIONS = 1000


def problem_of(error: SCIMException) -> ScimProblem:
    return ScimProblem(error.detail, status=error.status, scim_type=error.scim_type or None)


def _problem_of_validation(error: ValidationError) -> ScimProblem:
    first = Error.from_validation_errors(error)[0]
    return ScimProblem(
        first.detail or "invalid payload",
        status=int(first.status or 400),
        scim_type=first.scim_type or "invalidValue",
    )


def parse_resource(model: type[R], body: Any, context: Context) -> R:
    """A resource of a creation or replacement request; invalidValue/invalidSyntax otherwise."""
    if not isinstance(body, dict):
        raise ScimProblem("the body must be a JSON object", scim_type="invalidSyntax")
    try:
        return model.model_validate(body, scim_ctx=context, scim_policy=POLICY)
    except ValidationError as error:
        raise _problem_of_validation(error) from None
    except SCIMException as error:
        raise problem_of(error) from None


def _bare_manager(value: Any) -> Any:
    # Entra sends the manager as its id alone; the enterprise schema has it as {"value": id}.
    return {"value": value} if isinstance(value, str) else value


def entra_compatible(body: Any) -> Any:
    """The PATCH body with Entra's bare manager ids wrapped as RFC 7643 has them."""
    if not isinstance(body, dict) or not isinstance(body.get("Operations"), list):
        return body
    operations = []
    for sent in body["Operations"]:
        if not isinstance(sent, dict):
            operations.append(sent)
            continue
        operation = dict(sent)
        path = operation.get("path")
        value = operation.get("value")
        if isinstance(path, str) and path.lower() in _MANAGER_KEYS:
            operation["value"] = _bare_manager(value)
        elif path is None and isinstance(value, dict):
            value = {
                k: _bare_manager(v) if k.lower() in _MANAGER_KEYS else v for k, v in value.items()
            }
            extension = value.get(ENTERPRISE_SCHEMA)
            if isinstance(extension, dict) and "manager" in extension:
                value[ENTERPRISE_SCHEMA] = {
                    **extension,
                    "manager": _bare_manager(extension["manager"]),
                }
            operation["value"] = value
        operations.append(operation)
    return {**body, "Operations": operations}


def parse_patch(model: type[R], body: Any) -> PatchOp[R]:
    """The operations of a PatchOp body, at most MAX_PATCH_OPERATIONS (413 tooMany beyond)."""
    if not isinstance(body, dict):
        raise ScimProblem("the body must be a PatchOp JSON object", scim_type="invalidSyntax")
    operations = body.get("Operations")
    if isinstance(operations, list) and len(operations) > MAX_PATCH_OPERATIONS:
        raise ScimProblem(
            f"a PATCH carries at most {MAX_PATCH_OPERATIONS} operations; send the rest in "
            "further requests",
            status=413,
            scim_type="tooMany",
        )
    patch_model: Any = PatchOp[model]  # type: ignore[valid-type]
    try:
        return patch_model.model_validate(  # type: ignore[no-any-return]
            entra_compatible(body), scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY
        )
    except ValidationError as error:
        raise _problem_of_validation(error) from None
    except SCIMException as error:
        raise problem_of(error) from None


def apply_patch(patch: PatchOp[Any], resource: Resource[Any]) -> None:
    """Apply parsed operations to ``resource`` in place (all of them or none)."""
    try:
        patch.patch(resource, scim_policy=POLICY)
    except ValidationError as error:
        raise _problem_of_validation(error) from None
    except SCIMException as error:
        raise problem_of(error) from None
