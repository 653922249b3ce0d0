"""The product catalogue."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from ..http import Blueprint, db_session, require
from . import service
from .schemas import ProductQueryArgsSchema, ProductSchema

blp = Blueprint("products", __name__, url_prefix="/v1/products", description="Product catalogue")


@blp.route("")
class Products(MethodView):
    @blp.arguments(ProductQueryArgsSchema, location="query")
    @blp.response(200, ProductSchema(many=True))
    @require()
    def get(self, args: dict[str, Any]) -> Any:
        """The product catalogue (any signed-in caller)"""
        return service.list_products(db_session(), kind=args["kind"], preview=args["preview"])
