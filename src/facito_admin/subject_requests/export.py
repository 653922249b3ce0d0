"""The export that fulfils an access or portability request: written by a job, downloaded by
the request's assignee, deleted when it expires.

The `dsr-export` job (service.start_fulfilment enqueues it) reads the subject's data in a
read-only session of its own, one snapshot (REPEATABLE READ on PostgreSQL; on SQLite a read
transaction, which never holds the write lock the job's own session would take at its first
statement), and streams the ZIP (archive.py) to ``<FACITO_EXPORT_PATH>/<organisation>/``
under a temporary name, renamed when complete: a retry simply writes it again. Then, in the
job's session, the request's ``results["export"]`` says where and until when, the timeline
notes `export_ready`, and the audit event is recorded. Every download is audited in the
request's transaction; an hourly scan deletes expired exports (and any file the folder keeps
past the expiry, such as what a killed worker left) and marks them expired.
"""

from __future__ import annotations

import os
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.context import RequestContext
from ..common import archives
from ..db.base import utcnow
from ..db.session import cross_organisation_session, unit_of_work
from ..errors import DomainError, Forbidden, InvalidState, NotFound
from ..jobs import JobContext, JobFailed, job_handler, periodic_job, system_context
from ..runtime import Runtime, runtime_of
from . import handling, service
from .actions import RequestAction
from .archive import ArchiveBuilder, ExportRequest
from .models import RequestKind, SubjectRequest

EXPORT_KIND = "dsr-export"  # service.FULFILMENT_JOBS names it for access and portability
EXPIRY_SCAN = "dsr-export-expiry"
READY, EXPIRED = "ready", "expired"


class ExportNotAssignee(Forbidden):
    code, title = "dsr-export-not-assignee", "Only the request's assignee downloads its export"


class ExportNotReady(InvalidState):
    code, title = "dsr-export-not-ready", "The request has no export yet"


class ExportExpired(DomainError):
    status, code, title = 410, "dsr-export-expired", "The export expired and was deleted"


def export_folder(runtime: Runtime, organisation_id: uuid.UUID) -> Path:
    """Where the organisation's exports are stored."""
    return archives.export_folder(runtime.settings.resolved_export_path, organisation_id)


def _read_session(runtime: Runtime, organisation_id: uuid.UUID) -> Session:
    return archives.read_snapshot(
        runtime.session(organisation_id=organisation_id),
        postgresql=runtime.database.is_postgresql,
    )


def _export_request(session: Session, request_id: uuid.UUID) -> ExportRequest:
    try:
        request = service.get_request(session, request_id=request_id)
    except NotFound:
        raise JobFailed("the data-subject request no longer exists", retry=False) from None
    if request.kind not in (RequestKind.access, RequestKind.portability):
        raise JobFailed(f"a {request.kind.value} request is not answered by an export", retry=False)
    if request.subject_account_id is None:
        raise JobFailed("the request names no account to export", retry=False)
    return ExportRequest.of(request, request.subject_account_id)


def _write(
    runtime: Runtime, ctx: JobContext, request_id: uuid.UUID, now: datetime, target: Path
) -> tuple[ExportRequest, ArchiveBuilder, int, str]:
    """Write the archive to ``target``; the request, what was written, its size and SHA-256."""

    def progress(done: int, total: int) -> None:
        ctx.raise_if_cancelled()
        ctx.progress(done, total)

    with _read_session(runtime, ctx.organisation_id) as read:
        request = _export_request(read, request_id)
        try:
            builder = ArchiveBuilder(
                read,
                request,
                job_id=ctx.job_id,
                generated_at=now,
                spool_dir=target.parent,
                progress=progress,
            )
            size, sha256 = archives.write_archive(builder.zipped(), target)
        except NotFound:
            raise JobFailed("the subject's account no longer exists", retry=False) from None
    return request, builder, size, sha256


@job_handler(EXPORT_KIND)
def export_request(session: Session, ctx: JobContext) -> dict[str, Any]:
    """Write the subject's export, then record it on the request (idempotent: a retry rewrites
    the file)."""
    runtime = runtime_of(session)
    request_id = uuid.UUID(str(ctx.params["request_id"]))
    folder = export_folder(runtime, ctx.organisation_id)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{request_id}.zip"
    partial = folder / f"{request_id}.{ctx.job_id}.part"
    now = utcnow()
    try:
        written, builder, size, sha256 = _write(runtime, ctx, request_id, now, partial)
        partial.replace(final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    selection = builder.selection
    export = {
        "status": READY,
        "file": final.name,
        "download_name": f"{written.reference}-{written.kind.value}.zip",
        "bytes": size,
        "sha256": sha256,
        "records": selection.total,
        "records_per_category": dict(selection.counts),
        "left_to_facito_dpo": sum(selection.left_to_facito.values()),
        "generated_at": now.isoformat(),
        "expires_at": (now + timedelta(days=runtime.settings.export_days)).isoformat(),
        "job_id": str(ctx.job_id),
    }
    request = service.lock_request(session, request_id=request_id)
    request.results = {**request.results, "export": export}
    handling.note(
        request,
        ctx.request,
        "export_ready",
        job_id=export["job_id"],
        records=selection.total,
        expires_at=export["expires_at"],
    )
    session.flush()
    service.RECORDER.record(
        session,
        ctx.request,
        request,
        RequestAction.Export,
        job_id=export["job_id"],
        bytes=size,
        sha256=sha256,
        records=selection.total,
        expires_at=export["expires_at"],
    )
    ctx.progress(selection.total, selection.total)
    return export


# --- download ---------------------------------------------------------------------------


def _expires_at(export: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(export["expires_at"])


def open_export(
    session: Session, ctx: RequestContext, *, request_id: uuid.UUID
) -> archives.ExportDownload:
    """The request's export for its assignee, opened; the download is audited."""
    request = service.get_request(session, request_id=request_id)
    if request.assignee_id is None or request.assignee_id != ctx.principal.client_key:
        raise ExportNotAssignee("only the request's assignee may download its export")
    export = (request.results or {}).get("export")
    if not export:
        raise ExportNotReady(
            "the request has no export: fulfil it and follow the job until it succeeds"
        )
    expired = export.get("status") == EXPIRED or _expires_at(export) <= utcnow()
    path = export_folder(runtime_of(session), request.organisation_id) / export["file"]
    if expired or not path.is_file():
        raise ExportExpired(
            "the export expired and was deleted; fulfil the request again for a new one",
            extra={"expires_at": export["expires_at"]},
        )
    service.RECORDER.record(
        session,
        ctx,
        request,
        RequestAction.DownloadExport,
        job_id=export["job_id"],
        bytes=export["bytes"],
        sha256=export["sha256"],
    )
    try:
        # Open now: a file deleted by the expiry scan meanwhile still streams to the end.
        file = path.open("rb")
    except FileNotFoundError:
        raise ExportExpired("the export expired and was deleted") from None
    return archives.ExportDownload(
        file=file,
        size=os.fstat(file.fileno()).st_size,
        name=export["download_name"],
        sha256=export["sha256"],
    )


# --- expiry -----------------------------------------------------------------------------


def _ready_exports(runtime: Runtime) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
    """(organisation, request, expires_at) of every export not yet expired, all organisations."""
    status = SubjectRequest.results["export"]["status"].as_string()
    with cross_organisation_session(
        runtime, reason="find data-subject request exports past their expiry"
    ) as session:
        rows = session.execute(
            select(
                SubjectRequest.organisation_id,
                SubjectRequest.id,
                SubjectRequest.results["export"]["expires_at"].as_string(),
            ).where(status == READY)
        ).all()
    return [(row[0], row[1], row[2]) for row in rows]


def _expire(session: Session, runtime: Runtime, request_id: uuid.UUID, now: datetime) -> bool:
    request = service.lock_request(session, request_id=request_id)
    export = (request.results or {}).get("export")
    if not export or export.get("status") != READY or _expires_at(export) > now:
        return False  # another scan, or a new export, got there first
    # The file goes first: should the commit fail, the next scan finds the request again.
    (export_folder(runtime, request.organisation_id) / export["file"]).unlink(missing_ok=True)
    ctx = system_context(EXPIRY_SCAN)
    request.results = {
        **request.results,
        "export": export | {"status": EXPIRED, "expired_at": now.isoformat()},
    }
    handling.note(request, ctx, "export_expired", job_id=export["job_id"])
    session.flush()
    service.RECORDER.record(
        session, ctx, request, RequestAction.ExpireExport, job_id=export["job_id"]
    )
    return True


def _sweep_leftovers(runtime: Runtime, now: datetime) -> int:
    """Delete any file of the exports folder older than the expiry (a worker killed while
    writing, or before it recorded the export): no copy outlives FACITO_EXPORT_DAYS."""
    root = runtime.settings.resolved_export_path
    if not root.is_dir():
        return 0
    cutoff = (now - timedelta(days=runtime.settings.export_days, hours=1)).timestamp()
    removed = 0
    for path in root.glob("*/*"):
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def expire_exports(runtime: Runtime, *, now: datetime | None = None) -> int:
    """Delete the exports past their expiry and mark them expired; how many."""
    now = now or utcnow()
    due: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for organisation_id, request_id, expires_at in _ready_exports(runtime):
        if datetime.fromisoformat(expires_at) <= now:
            due[organisation_id].append(request_id)
    expired = 0
    for organisation_id, request_ids in due.items():
        with unit_of_work(runtime, organisation_id=organisation_id) as session:
            expired += sum(_expire(session, runtime, r, now) for r in request_ids)
    _sweep_leftovers(runtime, now)
    return expired


@periodic_job(EXPIRY_SCAN, minute="17")
def scan_for_expired_exports(runtime: Runtime) -> None:
    """Every hour: delete the exports that expired."""
    expire_exports(runtime)
