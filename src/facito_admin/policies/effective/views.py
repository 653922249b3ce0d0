"""The effective policy of an organisation: statement in force ⊕ contract in force."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView

from ...auth.permissions import Permission
from ...http import Blueprint, db_session, require
from .schemas import EffectivePolicyArgsSchema, EffectivePolicySchema
from .service import effective_policy

blp = Blueprint(
    "effective_policy",
    __name__,
    url_prefix="/v1/organisations/<uuid:org_id>/effective-policy",
    description="The policy in force for an organisation, each value with its provenance",
)


@blp.route("")
class EffectivePolicy(MethodView):
    @blp.doc(operationId="getEffectivePolicy")
    @blp.arguments(EffectivePolicyArgsSchema, location="query")
    @blp.response(200, EffectivePolicySchema)
    @require(Permission.PolicyRead)
    def get(self, args: dict[str, Any], org_id: UUID) -> Any:
        """Resolve the organisation's policy at an instant (default now): contract wins
        ---
        Every key of the privacy statement version in force, overridden by the contract in
        force where it sets the key; each value names its source document and since when that
        document governs.
        """
        return effective_policy(db_session(), at=args["at"])
