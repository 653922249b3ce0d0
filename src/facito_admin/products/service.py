"""The product catalogue: the same for every organisation."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Product, ProductKind


def list_products(
    session: Session, *, kind: ProductKind | None, preview: bool | None
) -> Sequence[Product]:
    """The catalogue by kind and code, optionally of one kind or preview state."""
    query = select(Product).order_by(Product.kind, Product.code)
    if kind is not None:
        query = query.where(Product.kind == kind)
    if preview is not None:
        query = query.where(Product.preview == preview)
    return session.scalars(query).all()
