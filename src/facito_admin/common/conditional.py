"""Entity tags and the preconditions that carry them (RFC 9110 §8.8.3, §13.1).

A resource's ETag derives from its id and its version (bumped on every UPDATE), so it is the
same for the REST and the SCIM form of an account and costs nothing to compute. The web edge
parses `If-Match` once into an :class:`IfMatch` and services check it against the row they
are about to change; `If-None-Match` on reads is answered at the edge (http/conditional.py).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass

from ..errors import PreconditionFailed, ValidationFailed


class InvalidIfMatch(ValidationFailed):
    status, code, title = 400, "invalid-if-match", "If-Match is malformed"


# One entity-tag of a list: `"opaque"` or `W/"opaque"` (RFC 9110 §8.8.3: etagc excludes `"`).
_ENTITY_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)')
# The whole header as a pattern, for the OpenAPI document: `*`, or a list of entity-tags.
ENTITY_TAGS = r'^(\*|(W/)?"[\x21\x23-\x7e]*"( *, *(W/)?"[\x21\x23-\x7e]*")*)$'


def etag_of(resource_id: uuid.UUID, version: int) -> str:
    """The strong ETag of one version of a resource."""
    digest = hashlib.sha256(f"{resource_id}:{version}".encode()).hexdigest()[:32]
    return f'"{digest}"'


def parse_entity_tags(value: str) -> tuple[list[str], bool] | None:
    """The tags of an If-Match / If-None-Match value and whether it is `*`; None if malformed.

    Each tag keeps its quotes and a weak one its `W/` prefix, as sent.
    """
    text = value.strip()
    if text == "*":
        return [], True
    tags: list[str] = []
    position = 0
    while position < len(text):
        match = _ENTITY_TAG.match(text, position)
        if match is None or match.end() == position:
            return None
        tags.append(f'{match.group(1) or ""}"{match.group(2)}"')
        position = match.end()
    return (tags, False) if tags else None


@dataclass(frozen=True)
class IfMatch:
    """The precondition of a change: the ETags the client last saw, or any (`*`)."""

    tags: frozenset[str] = frozenset()
    any: bool = False

    @classmethod
    def parse(cls, value: str) -> IfMatch:
        """An If-Match header's value; 400 when it is not a list of entity-tags or `*`."""
        parsed = parse_entity_tags(value)
        if parsed is None:
            raise InvalidIfMatch(
                "If-Match must be `*` or a list of quoted entity-tags",
                errors={"If-Match": ['`*` or entity-tags such as "abc"']},
                location="headers",
            )
        tags, is_any = parsed
        return cls(frozenset(tags), any=is_any)

    def check(self, resource_id: uuid.UUID, version: int) -> None:
        """412 unless the current version's ETag is one of the tags (or the value is `*`).

        Strong comparison (RFC 9110 §13.1.1): a weak tag never matches, our ETags are strong.
        """
        if self.any or etag_of(resource_id, version) in self.tags:
            return
        raise PreconditionFailed("the resource changed since you read it; read it again")


# No precondition: what a protocol passes when the client sent no If-Match and the protocol
# does not require one (SCIM, RFC 7644 §3.14), and what the system uses for its own changes.
ANY = IfMatch(any=True)


def matches_weakly(if_none_match: str, etag: str) -> bool:
    """Whether an If-None-Match value names ``etag`` (weak comparison, RFC 9110 §13.1.2)."""
    parsed = parse_entity_tags(if_none_match)
    if parsed is None:
        return False
    tags, is_any = parsed
    return is_any or etag.removeprefix("W/") in {tag.removeprefix("W/") for tag in tags}
