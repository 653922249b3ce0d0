"""Employee accounts of an organisation: list, create, read, change, lifecycle."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Response, url_for
from flask.views import MethodView

from ..auth.permissions import Permission
from ..http import (
    ETAG_DOC,
    IF_MATCH_DOC,
    Blueprint,
    current_ctx,
    db_session,
    if_match,
    next_page_link,
    require,
    with_etag,
)
from . import lifecycle, listing, service
from .listing import AccountFilter
from .models import AccountStatus
from .schemas import (
    AccountCreateSchema,
    AccountPageSchema,
    AccountQueryArgsSchema,
    AccountSchema,
    AccountUpdateSchema,
)

blp = Blueprint(
    "accounts",
    __name__,
    url_prefix="/v1/organisations/<uuid:org_id>/accounts",
    description="Employee accounts: attributes, lifecycle and grace period",
)


@blp.route("")
class Accounts(MethodView):
    # An instance: webargs would build one from a class on every request of this hot list.
    @blp.arguments(AccountQueryArgsSchema(), location="query")
    @blp.response(200, AccountPageSchema)
    @require(Permission.AccountsRead)
    def get(self, args: dict[str, Any], org_id: UUID) -> Any:
        """List accounts (keyset pages; filters; sort by creation or name)"""
        page = service.list_accounts(
            db_session(),
            account_filter=AccountFilter(
                status=args["status"],
                source=args["source"],
                department=args["department"],
                q=args["q"],
            ),
            sort=args["sort"],
            descending=args["order"] == "desc",
            limit=args["limit"],
            cursor=args["cursor"],
        )
        return Response(
            listing.render_page(page),
            status=200,
            mimetype="application/json",
            headers=next_page_link(args, page.next_cursor),
        )

    @blp.arguments(AccountCreateSchema)
    @blp.response(
        201, AccountSchema, headers={"Location": {"schema": {"type": "string"}}, **ETAG_DOC}
    )
    @require(Permission.AccountsWrite)
    def post(self, body: dict[str, Any], org_id: UUID) -> Any:
        """Create an account (a minor's stays disabled until a guardian consents)"""
        status = AccountStatus(body.pop("status"))
        account = service.create_account(db_session(), current_ctx(), fields=body, status=status)
        location = url_for("accounts.AccountById", org_id=org_id, account_id=account.id)
        return with_etag(account, 201, {"Location": location})


@blp.route("/<uuid:account_id>")
class AccountById(MethodView):
    @blp.response(200, AccountSchema, headers=ETAG_DOC)
    @require(Permission.AccountsRead)
    def get(self, org_id: UUID, account_id: UUID) -> Any:
        """Read an account"""
        return with_etag(service.get_account(db_session(), account_id=account_id))

    @blp.arguments(AccountUpdateSchema)
    @blp.response(200, AccountSchema, headers=ETAG_DOC)
    @blp.doc(**IF_MATCH_DOC)
    @require(Permission.AccountsWrite)
    def patch(self, body: dict[str, Any], org_id: UUID, account_id: UUID) -> Any:
        """Change an account's attributes (If-Match required)"""
        account = service.update_account(
            db_session(), current_ctx(), account_id=account_id, if_match=if_match(), changes=body
        )
        return with_etag(account)

    @blp.response(200, AccountSchema, headers=ETAG_DOC)
    @blp.doc(**IF_MATCH_DOC)
    @require(Permission.AccountsWrite)
    def delete(self, org_id: UUID, account_id: UUID) -> Any:
        """Delete an account (If-Match required): restorable until `purge_after`
        ---
        Product access ends at once. The account stays readable (status `deleted`) and can be
        restored until `purge_after` (the policy's deleted-items days), then it is removed.
        """
        account = lifecycle.delete_account(
            db_session(), current_ctx(), account_id=account_id, if_match=if_match()
        )
        return with_etag(account)


@blp.route("/<uuid:account_id>/disable")
class AccountDisable(MethodView):
    @blp.response(200, AccountSchema, headers=ETAG_DOC)
    @require(Permission.AccountsWrite)
    def post(self, org_id: UUID, account_id: UUID) -> Any:
        """Disable an account; its product access ends at once"""
        account = lifecycle.disable_account(db_session(), current_ctx(), account_id=account_id)
        return with_etag(account)


@blp.route("/<uuid:account_id>/enable")
class AccountEnable(MethodView):
    @blp.response(200, AccountSchema, headers=ETAG_DOC)
    @require(Permission.AccountsWrite)
    def post(self, org_id: UUID, account_id: UUID) -> Any:
        """Enable a disabled account; the products it lost by being disabled come back"""
        account = lifecycle.enable_account(db_session(), current_ctx(), account_id=account_id)
        return with_etag(account)


@blp.route("/<uuid:account_id>/restore")
class AccountRestore(MethodView):
    @blp.response(200, AccountSchema, headers=ETAG_DOC)
    @require(Permission.AccountsWrite)
    def post(self, org_id: UUID, account_id: UUID) -> Any:
        """Restore a deleted account inside its grace period, to the status it had"""
        account = lifecycle.restore_account(db_session(), current_ctx(), account_id=account_id)
        return with_etag(account)
