"""What an access or portability export holds: the members of its ZIP, read from one snapshot.

The archive is the subject's account and nothing else: the profile, the products it may use,
its preferences now and every change of them, the guardian consents recorded for it, and its
linked data records that are not soft-deleted, per category as a JSON array and as CSV. The
organisation's request covers what the organisation controls (routing.py): records of
categories or products that Facito controls itself are answered by Facito's DPO and only
counted in the manifest. ``request.scope`` narrows the records (categories, products) and the
products (products); the profile, preferences and guardian consents always go in.

Records are read in keyset batches and written to a spool file per member
(common/archives.py), so the archive is never whole in memory. ``manifest.json`` comes last,
with the size and SHA-256 of every other member.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session
from stream_zip import MemberFile, stream_zip

from ..accounts.fields import FIELDS
from ..accounts.service import get_account
from ..audit.export import csv_safe
from ..common.archives import MemberSpool, instant, to_json
from ..consents.models import GuardianConsent, PreferenceChange
from ..consents.schemas import GuardianConsentSchema, PreferenceChangeSchema, PreferencesSchema
from ..consents.service import get_preferences
from ..policies.effective.service import contract_in_force, effective_policy
from ..products.models import Entitlement, Product
from ..user_data.models import DataRecord
from ..user_data.schemas import record_view
from .models import RequestKind, SubjectRequest
from .routing import facito_controls

# Records per query: content is up to 64 KiB a record (user_data/ingest.py), so a batch holds
# 32 MiB of it at the very most; the round trips cost little beside the writing.
BATCH = 500
MANIFEST = "manifest.json"
FORMAT = "facito-dsr-export/1"
RIGHTS = {
    RequestKind.access: "GDPR art. 15: the right of access",
    RequestKind.portability: "GDPR art. 20: the right to data portability",
}
# The columns of records/<category>.csv: record_view's fields, storage flattened, then the
# content as JSON text.
CSV_COLUMNS = (
    *("id", "product", "category", "source_system", "external_key", "subprocessor", "region"),
    *("sensitive", "purposes", "has_content", "content_ref", "occurred_at", "created_at"),
    *("updated_at", "content"),
)
_RECORD_COLUMNS = [
    DataRecord.id,
    DataRecord.account_id,
    DataRecord.product,
    DataRecord.category,
    DataRecord.source_system,
    DataRecord.external_key,
    DataRecord.subprocessor,
    DataRecord.region,
    DataRecord.sensitive,
    DataRecord.purposes,
    # The content as the JSON text the database holds, embedded as it is: parsing it and
    # writing it again (twice) was most of an export's work.
    cast(DataRecord.content, Text).label("content"),
    DataRecord.content_ref,
    DataRecord.occurred_at,
    DataRecord.created_at,
    DataRecord.updated_at,
    DataRecord.deleted_at,
]


@dataclass(frozen=True)
class ExportRequest:
    """What the export needs of its request, read before anything else."""

    id: uuid.UUID
    reference: str
    kind: RequestKind
    organisation_id: uuid.UUID
    account_id: uuid.UUID
    categories: tuple[str, ...]
    products: tuple[str, ...]
    linked_request_id: uuid.UUID | None
    routing_rule: str | None

    @classmethod
    def of(cls, request: SubjectRequest, account_id: uuid.UUID) -> ExportRequest:
        scope = request.scope or {}
        return cls(
            id=request.id,
            reference=request.reference,
            kind=request.kind,
            organisation_id=request.organisation_id,
            account_id=account_id,
            categories=tuple(sorted(scope.get("categories") or ())),
            products=tuple(sorted(scope.get("products") or ())),
            linked_request_id=request.linked_request_id,
            routing_rule=(request.routing or {}).get("rule"),
        )


@dataclass
class Selection:
    """The records an export takes: products per category, and what it leaves to Facito."""

    included: dict[str, list[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    left_to_facito: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _live(request: ExportRequest) -> list[Any]:
    where = [DataRecord.account_id == request.account_id, DataRecord.deleted_at.is_(None)]
    if request.categories:
        where.append(DataRecord.category.in_(request.categories))
    if request.products:
        where.append(DataRecord.product.in_(request.products))
    return where


def select_records(session: Session, request: ExportRequest, *, now: datetime) -> Selection:
    """Which (product, category) pairs the organisation's export takes, with their counts."""
    contract = contract_in_force(session, at=now)
    roles = dict(contract.products) if contract else {}
    selection = Selection()
    rows = session.execute(
        select(DataRecord.product, DataRecord.category, func.count())
        .where(*_live(request))
        .group_by(DataRecord.product, DataRecord.category)
        .order_by(DataRecord.category, DataRecord.product)
    ).all()
    for product, category, count in rows:
        if facito_controls(product, category, roles):
            selection.left_to_facito[category] = selection.left_to_facito.get(category, 0) + count
        else:
            selection.included.setdefault(category, []).append(product)
            selection.counts[category] = selection.counts.get(category, 0) + count
    return selection


def _record_batches(
    session: Session, request: ExportRequest, category: str, products: list[str]
) -> Iterator[Sequence[Any]]:
    # Keyset on ix_data_records_org_account_category: (organisation, account, category, id).
    after: uuid.UUID | None = None
    while True:
        query = (
            select(*_RECORD_COLUMNS)
            .where(*_live(request), DataRecord.category == category)
            .where(DataRecord.product.in_(products))
            .order_by(DataRecord.id)
            .limit(BATCH)
        )
        if after is not None:
            query = query.where(DataRecord.id > after)
        rows = session.execute(query).all()
        if rows:
            yield rows
        if len(rows) < BATCH:
            return
        after = rows[-1].id


def _cells(values: Iterable[Any]) -> list[str]:
    """A CSV row: booleans as JSON writes them, text that a spreadsheet would run escaped."""
    return [
        "" if v is None else "true" if v is True else "false" if v is False else csv_safe(v)
        for v in values
    ]


def _record(row: Any) -> tuple[str, list[str]]:
    """One record as its JSON text and its CSV row."""
    view = record_view(row)
    view["id"], view["account_id"] = str(row.id), str(row.account_id)
    for key in ("occurred_at", "created_at", "updated_at", "deleted_at"):
        view[key] = instant(view[key])
    head = json.dumps(view, ensure_ascii=False)
    text = f'{head[:-1]}, "content": {row.content or "null"}}}'
    flat = view | view["storage"]
    flat["purposes"] = ";".join(view["purposes"])
    flat["content"] = row.content
    return text, _cells(flat[column] for column in CSV_COLUMNS)


class ArchiveBuilder:
    """The members of one request's export, built lazily while stream-zip consumes them."""

    def __init__(
        self,
        session: Session,
        request: ExportRequest,
        *,
        job_id: uuid.UUID,
        generated_at: datetime,
        spool_dir: Path,
        progress: Callable[[int, int], None],
    ) -> None:
        self.session = session
        self.request = request
        self.job_id = job_id
        self.generated_at = generated_at
        self.progress = progress
        self.spool = MemberSpool(generated_at=generated_at, spool_dir=spool_dir)
        self.counts: dict[str, Any] = {}
        self.selection = Selection()

    def _subject(self) -> Iterator[MemberFile]:
        session, account_id = self.session, self.request.account_id
        account = get_account(session, account_id=account_id)
        # Every field of the account, those only integrations write included: all of it is the
        # subject's data (accounts/fields.py is the one list).
        profile = {f.name: getattr(account, f.computed_as or f.name) for f in FIELDS.values()}
        yield self.spool.document("profile.json", profile)
        products = select(
            Entitlement.id,
            Entitlement.product_code,
            Product.name.label("product_name"),
            Entitlement.granted_at,
            Entitlement.ended_at,
            Entitlement.end_reason,
        ).join(Product, Product.code == Entitlement.product_code)
        products = products.where(Entitlement.account_id == account_id)
        if self.request.products:
            products = products.where(Entitlement.product_code.in_(self.request.products))
        entitlements = [
            row._asdict() | {"active": row.ended_at is None}
            for row in session.execute(products.order_by(Entitlement.id))
        ]
        yield self.spool.document("products.json", entitlements)
        yield self.spool.document(
            "preferences.json",
            PreferencesSchema().dump(get_preferences(session, account_id=account_id)),
        )
        changes = session.scalars(
            select(PreferenceChange)
            .where(PreferenceChange.account_id == account_id)
            .order_by(PreferenceChange.id)
        ).all()
        yield self.spool.document(
            "preference-changes.json", PreferenceChangeSchema(many=True).dump(changes)
        )
        consents = session.scalars(
            select(GuardianConsent)
            .where(GuardianConsent.account_id == account_id)
            .order_by(GuardianConsent.id)
        ).all()
        yield self.spool.document(
            "guardian-consents.json", GuardianConsentSchema(many=True).dump(consents)
        )
        self.counts.update(
            profile=1,
            products=len(entitlements),
            preference_changes=len(changes),
            guardian_consents=len(consents),
        )

    def _records(self) -> Iterator[MemberFile]:
        done, total = 0, self.selection.total
        for category, products in self.selection.included.items():
            as_json = self.spool.spool()
            as_csv = self.spool.spool()
            text = io.TextIOWrapper(as_csv, encoding="utf-8", newline="", write_through=True)
            writer = csv.writer(text)
            writer.writerow(CSV_COLUMNS)
            as_json.write(b"[")
            count = 0
            for rows in _record_batches(self.session, self.request, category, products):
                records = [_record(row) for row in rows]
                lines = ",\n".join(line for line, _ in records)
                as_json.write(((",\n" if count else "\n") + lines).encode())
                writer.writerows(cells for _, cells in records)
                count += len(records)
                self.progress(done + count, max(total, done + count))
            as_json.write(b"\n]\n" if count else b"]\n")
            text.detach()
            done += count
            # What was written, which a record ingested since the count may have changed.
            self.selection.counts[category] = count
            yield self.spool.member(f"records/{category}.json", as_json)
            yield self.spool.member(f"records/{category}.csv", as_csv)

    def _manifest(self) -> dict[str, Any]:
        request, selection = self.request, self.selection
        policy = effective_policy(self.session, at=self.generated_at)
        return {
            "format": FORMAT,
            "request": {
                "id": request.id,
                "reference": request.reference,
                "kind": request.kind.value,
                "linked_request_id": request.linked_request_id,
            },
            "subject": {"account_id": request.account_id},
            "organisation_id": request.organisation_id,
            "generated_at": self.generated_at,
            "job_id": self.job_id,
            "basis": {
                "right": RIGHTS[request.kind],
                "controller": "the organisation; Facito assists as its processor "
                "(GDPR art. 28(3)(e))",
                "routing_rule": request.routing_rule,
                "statement_version": policy.statement.version_label if policy.statement else None,
                "contract_reference": policy.contract.reference if policy.contract else None,
            },
            "scope": {
                "categories": list(request.categories) or "all",
                "products": list(request.products) or "all",
                "records": "linked data records that are not deleted; soft-deleted ones await "
                "their purge and are left out",
                "left_to_facito_dpo": dict(sorted(selection.left_to_facito.items())),
                "left_to_facito_dpo_reason": "records of categories or products that Facito "
                "controls itself are answered by Facito's DPO (the linked request)",
            },
            "counts": self.counts
            | {"records": dict(selection.counts), "records_total": selection.total},
            "files": self.spool.files(),
            "csv": "cells that a spreadsheet would run as a formula start with an apostrophe; "
            "the JSON files hold every value as stored",
        }

    def members(self) -> Iterator[MemberFile]:
        """Every member, the manifest last (built after the others were written)."""
        yield from self._subject()
        self.selection = select_records(self.session, self.request, now=self.generated_at)
        self.progress(0, self.selection.total)
        yield from self._records()
        manifest = self.spool.spool()
        manifest.write(to_json(self._manifest()))
        yield self.spool.member(MANIFEST, manifest)

    def zipped(self) -> Iterable[bytes]:
        """The archive's bytes, as stream-zip makes them."""
        return stream_zip(self.members())
