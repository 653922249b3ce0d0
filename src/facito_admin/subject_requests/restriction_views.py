"""Lifting an account's restriction of processing (GDPR art. 18); a request places it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView

from ..auth.permissions import Permission
from ..http import Blueprint, current_ctx, db_session, require
from .restrictions import lift_restriction
from .schemas import ProcessingRestrictionLiftSchema, ProcessingRestrictionSchema

blp = Blueprint(
    "processing_restrictions",
    __name__,
    url_prefix="/v1/organisations/<uuid:org_id>/accounts/<uuid:account_id>/processing-restriction",
    description="An account's restriction of processing (GDPR art. 18), placed by a "
    "data-subject request",
)


@blp.route("/lift")
class ProcessingRestrictionLift(MethodView):
    @blp.arguments(ProcessingRestrictionLiftSchema)
    @blp.response(200, ProcessingRestrictionSchema)
    @require(Permission.SubjectRequestsHandle)
    def post(self, body: dict[str, Any], org_id: UUID, account_id: UUID) -> Any:
        """Lift the account's restriction of processing; tell the subject first (art. 18(3))
        ---
        Integrations read the account's linked data again and its advertising preferences
        count again. The request that placed the restriction notes the lift on its timeline,
        where the subject reads it. 404 when no restriction is in force.
        """
        return lift_restriction(
            db_session(), current_ctx(), account_id=account_id, reason=body["reason"]
        )
