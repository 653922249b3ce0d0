"""The signed-in person's own preferences: read, change, and their history."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from ..auth.permissions import Permission
from ..common.pagination import PageArgsSchema
from ..consents import service
from ..consents.schemas import (
    PreferenceChangePageSchema,
    PreferencesSchema,
    PreferencesUpdateSchema,
)
from ..http import Blueprint, current_ctx, db_session, exempt_from_audit, page_response, require

blp = Blueprint(
    "me_preferences",
    __name__,
    url_prefix="/v1/me/preferences",
    description="The caller's own marketing, advertising and cookie preferences",
)


def _answer(update: service.PreferenceUpdate) -> service.PreferenceState:
    # As consents/views.py: a PATCH that changed nothing wrote nothing to audit.
    if not update.changed:
        exempt_from_audit("no preference changed")
    return update.state


@blp.route("")
class OwnPreferences(MethodView):
    @blp.doc(operationId="getOwnPreferences")
    @blp.response(200, PreferencesSchema)
    @require(Permission.SelfPreferencesRead)
    def get(self) -> Any:
        """Read your own preferences: each setting's value, where it comes from, since when"""
        return service.get_own_preferences(db_session(), current_ctx())

    @blp.doc(operationId="updateOwnPreferences")
    @blp.arguments(PreferencesUpdateSchema)
    @blp.response(200, PreferencesSchema)
    @require(Permission.SelfPreferencesWrite)
    def patch(self, body: dict[str, Any]) -> Any:
        """Change some of your own preferences; each change is kept in your history"""
        update = service.change_own_preferences(db_session(), current_ctx(), document=body)
        return _answer(update)


@blp.route("/history")
class OwnPreferenceHistory(MethodView):
    @blp.doc(operationId="listOwnPreferenceChanges")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, PreferenceChangePageSchema)
    @require(Permission.SelfPreferencesRead)
    def get(self, args: dict[str, Any]) -> Any:
        """List your own preference changes, newest first"""
        page = service.list_own_preference_changes(
            db_session(), current_ctx(), limit=args["limit"], cursor=args["cursor"]
        )
        return page_response(page, args)
