"""Strong ETags derived from a row's id and version (bumped on every UPDATE)."""

from __future__ import annotations

import hashlib
import uuid

from ..errors import PreconditionFailed


def etag_of(resource_id: uuid.UUID, version: int) -> str:
    """The ETag of one version of a resource."""
    digest = hashlib.sha256(f"{resource_id}:{version}".encode()).hexdigest()[:32]
    return f'"{digest}"'


def check_if_match(resource_id: uuid.UUID, version: int, if_match: str) -> None:
    """412 unless ``if_match`` names the current version (or is `*`)."""
    candidates = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" in candidates or etag_of(resource_id, version) in candidates:
        return
    raise PreconditionFailed("the resource changed since you read it; read it again")
