"""Request and response shapes of linked data records: the batch, the metadata, the content, the
summary."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from ..common.pagination import Page, PageArgsSchema, page_schema
from ..common.schemas import (
    Instant,
    OutputSchema,
    QueryBoolean,
    StrictBoolean,
    StrictSchema,
)
from ..policies.categories import CATEGORIES, Purpose
from ..policies.regions import REGIONS, SUBPROCESSORS
from .ingest import CLOCK_SKEW, MAX_BATCH, MAX_CONTENT_BYTES
from .models import CONTENT_REF_LENGTH, EXTERNAL_KEY_LENGTH, SOURCE_SYSTEM_LENGTH, DataRecord
from .service import RecordFilter

_CATEGORY = ma.validate.OneOf(sorted(CATEGORIES))
_TEXT_RULE = "Trimmed; not blank, no control characters."


# --- the batch ------------------------------------------------------------------------------
# Documentation of the items: user_data/ingest.py checks them, all items at once, so that one
# answer lists every error of every item. Change both together.


class StorageSchema(StrictSchema):
    subprocessor = ma.fields.String(
        required=True, validate=ma.validate.OneOf(sorted(SUBPROCESSORS))
    )
    region = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(sorted(REGIONS)),
        metadata={
            "description": "A region of the subprocessor (GET /v1/regions), allowed by the "
            "organisation's effective policy now (residency.allowed_regions, "
            "residency.eea_only, subprocessors.allowed)"
        },
    )


class DataRecordInSchema(StrictSchema):
    account_id = ma.fields.UUID(
        required=True, metadata={"description": "An account of the organisation, not deleted"}
    )
    product = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=64),
        metadata={"description": "A product code of the catalogue (GET /v1/products)"},
    )
    category = ma.fields.String(
        required=True, validate=_CATEGORY, metadata={"description": "GET /v1/data-categories"}
    )
    source_system = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=SOURCE_SYSTEM_LENGTH),
        metadata={"description": f"The system the record comes from. {_TEXT_RULE}"},
    )
    external_key = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=EXTERNAL_KEY_LENGTH),
        metadata={
            "description": "The record's key in its source system: a record with the same "
            f"source_system and external_key is updated. {_TEXT_RULE}"
        },
    )
    storage = ma.fields.Nested(StorageSchema, required=True)
    content = ma.fields.Raw(
        allow_none=True,
        metadata={
            "description": f"The data itself, any JSON up to {MAX_CONTENT_BYTES} bytes; "
            "or `content_ref`, or neither"
        },
    )
    content_ref = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(min=1, max=CONTENT_REF_LENGTH),
        metadata={"description": "A URI where the content is held instead", "format": "uri"},
    )
    sensitive = StrictBoolean(
        load_default=False,
        metadata={"description": "The record holds sensitive data (its category may be too)"},
    )
    occurred_at = Instant(
        metadata={
            "description": "When the data came into being at its source (default: now); "
            f"not in the future (up to {int(CLOCK_SKEW.total_seconds() // 60)} minutes of "
            "clock skew are taken for now)"
        }
    )
    purposes = ma.fields.List(
        ma.fields.Enum(Purpose, by_value=True),
        metadata={
            "description": "What the data is used for; each must be a purpose of its category "
            "(content and files never serve advertising)",
            "uniqueItems": True,
        },
    )


class _BatchItems(ma.fields.List[Any]):
    """Documented as a list of DataRecordInSchema; loaded as raw objects, which ingest.py checks
    all together (so that an error in one item does not hide those of the others)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, list):
            raise self.make_error("invalid")
        return value


class DataRecordBatchSchema(StrictSchema):
    records = _BatchItems(
        ma.fields.Nested(DataRecordInSchema),
        required=True,
        validate=ma.validate.Length(min=1, max=MAX_BATCH),
    )

    def _reject_nul_characters(self, data: Any, **_: Any) -> Any:
        """Not walked here (it cost as much as the checks of every item): ingest.py refuses NUL
        in every string it stores, text fields by UNSTORABLE, content by its JSON text."""
        return data


class IngestedRecordSchema(ma.Schema):
    index = ma.fields.Integer(required=True, metadata={"description": "The item's position"})
    id = ma.fields.UUID(required=True)
    external_key = ma.fields.String(required=True)
    created = ma.fields.Boolean(required=True, metadata={"description": "false: updated"})


class _PlainItems(ma.fields.List[Any]):
    """Documented as a list of IngestedRecordSchema; the service builds the items as JSON-ready
    dicts already (1,000 nested dumps would cost more than the checks of the batch)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


class IngestResultSchema(ma.Schema):
    created = ma.fields.Integer(required=True)
    updated = ma.fields.Integer(required=True)
    records = _PlainItems(ma.fields.Nested(IngestedRecordSchema), required=True)


# --- records --------------------------------------------------------------------------------


class StorageOutSchema(ma.Schema):
    subprocessor = ma.fields.String(required=True)
    region = ma.fields.String(required=True)


class SensitivitySchema(ma.Schema):
    record = ma.fields.Boolean(required=True, metadata={"description": "Flagged when ingested"})
    category = ma.fields.Boolean(required=True, metadata={"description": "Its category is"})


class DataRecordSchema(OutputSchema):
    """A record's metadata: never its content (GET …/content reads it, audited)."""

    id = ma.fields.UUID(required=True)
    account_id = ma.fields.UUID(required=True)
    product = ma.fields.String(required=True)
    category = ma.fields.String(required=True)
    source_system = ma.fields.String(required=True)
    external_key = ma.fields.String(required=True)
    storage = ma.fields.Nested(StorageOutSchema, required=True)
    sensitive = ma.fields.Boolean(
        required=True, metadata={"description": "The record or its category is sensitive"}
    )
    sensitivity = ma.fields.Nested(SensitivitySchema, required=True)
    purposes = ma.fields.List(ma.fields.String(), required=True)
    has_content = ma.fields.Boolean(required=True, metadata={"description": "Content held here"})
    content_ref = ma.fields.String(required=True, allow_none=True)
    occurred_at = ma.fields.DateTime(required=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)
    deleted_at = ma.fields.DateTime(required=True, allow_none=True)


DataRecordPageSchema = page_schema(DataRecordSchema, "DataRecordPageSchema")


class DataRecordContentSchema(OutputSchema):
    id = ma.fields.UUID(required=True)
    account_id = ma.fields.UUID(required=True)
    category = ma.fields.String(required=True)
    content = ma.fields.Raw(required=True, allow_none=True)
    content_ref = ma.fields.String(required=True, allow_none=True)


def record_view(record: DataRecord) -> dict[str, Any]:
    """The metadata of a record as the API shows it (no content)."""
    known = CATEGORIES.get(record.category)
    category_sensitive = known is not None and known.sensitive
    return {
        "id": record.id,
        "account_id": record.account_id,
        "product": record.product,
        "category": record.category,
        "source_system": record.source_system,
        "external_key": record.external_key,
        "storage": {"subprocessor": record.subprocessor, "region": record.region},
        "sensitive": record.sensitive or category_sensitive,
        "sensitivity": {"record": record.sensitive, "category": category_sensitive},
        "purposes": list(record.purposes or []),
        "has_content": record.content is not None,
        "content_ref": record.content_ref,
        "occurred_at": record.occurred_at,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "deleted_at": record.deleted_at,
    }


def content_view(record: DataRecord) -> dict[str, Any]:
    """A record's content as the API shows it, to whoever may read it."""
    return {
        "id": record.id,
        "account_id": record.account_id,
        "category": record.category,
        "content": record.content,
        "content_ref": record.content_ref,
    }


def records_page(page: Page[DataRecord]) -> Page[dict[str, Any]]:
    """A page of records as their metadata."""
    return Page([record_view(r) for r in page.items], page.next_cursor)


def record_filter(args: dict[str, Any]) -> RecordFilter:
    """The filters of a list's query arguments (DataRecordQueryArgsSchema)."""
    return RecordFilter(
        product=args["product"],
        category=args["category"],
        occurred_after=args["occurred_after"],
        occurred_before=args["occurred_before"],
        include_deleted=args["include_deleted"],
    )


class DataRecordQueryArgsSchema(PageArgsSchema):
    product = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=64))
    category = ma.fields.String(load_default=None, validate=_CATEGORY)
    occurred_after = Instant(load_default=None, metadata={"description": "From this instant on"})
    occurred_before = Instant(load_default=None, metadata={"description": "Before this instant"})
    include_deleted = QueryBoolean(
        load_default=False,
        metadata={"description": "Also soft-deleted records, until they are purged"},
    )


# --- the summary ----------------------------------------------------------------------------


class ProductCountSchema(ma.Schema):
    product = ma.fields.String(required=True)
    count = ma.fields.Integer(required=True)


class CategoryCountSchema(ma.Schema):
    category = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    sensitive = ma.fields.Boolean(required=True)
    count = ma.fields.Integer(required=True)


class StorageCountSchema(ma.Schema):
    subprocessor = ma.fields.String(required=True)
    region = ma.fields.String(required=True)
    country = ma.fields.String(required=True, allow_none=True)
    eea = ma.fields.Boolean(required=True, allow_none=True)
    count = ma.fields.Integer(required=True)


class DataSummarySchema(OutputSchema):
    """Live records only; `deleted` counts those awaiting their purge."""

    account_id = ma.fields.UUID(required=True)
    total = ma.fields.Integer(required=True)
    sensitive = ma.fields.Integer(required=True)
    with_content = ma.fields.Integer(required=True)
    deleted = ma.fields.Integer(required=True)
    oldest_occurred_at = ma.fields.DateTime(required=True, allow_none=True)
    newest_occurred_at = ma.fields.DateTime(required=True, allow_none=True)
    products = ma.fields.List(ma.fields.Nested(ProductCountSchema), required=True)
    categories = ma.fields.List(ma.fields.Nested(CategoryCountSchema), required=True)
    storage = ma.fields.List(ma.fields.Nested(StorageCountSchema), required=True)
