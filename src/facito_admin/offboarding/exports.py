"""The organisation's full export: started by its admins or privacy officer (during the return
period after offboarding, and any time before), written by a job, downloaded until it expires.

The `organisation-export` job reads the organisation's data in a read-only session of its own,
one snapshot (common/archives.py), and streams the ZIP (archive.py) to
``<FACITO_EXPORT_PATH>/<organisation>/`` under a temporary name, renamed when complete: a retry
writes it again. The export's row then says where and until when (``FACITO_EXPORT_DAYS``), in
the step that records the audit event. Past the expiry a download answers 410; the file itself
goes with the exports folder's hourly sweep of anything older than the expiry
(subject_requests/export.py: _sweep_leftovers), and with the organisation's data after its
return period (deletion.py).
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.service import record_event
from ..auth.context import RequestContext
from ..common import archives
from ..common.pagination import Page, paginate
from ..db.base import utcnow
from ..db.tenancy import require_organisation
from ..errors import DomainError, InvalidState, NotFound
from ..jobs import Job, JobContext, JobFailed, enqueue_job, job_handler
from ..runtime import Runtime, runtime_of
from .actions import OffboardingAction
from .archive import OrganisationArchive
from .models import ExportStatus, OrganisationExport

EXPORT_KIND = "organisation-export"
EXPIRED = "expired"


class ExportNotReady(InvalidState):
    code, title = "organisation-export-not-ready", "The export is still being written"


class ExportExpired(DomainError):
    status, code, title = 410, "organisation-export-expired", "The export expired"


def export_folder(runtime: Runtime, organisation_id: uuid.UUID) -> Path:
    """Where the organisation's exports are stored (shared with data-subject request exports)."""
    return archives.export_folder(runtime.settings.resolved_export_path, organisation_id)


def status_of(export: OrganisationExport, *, now: datetime | None = None) -> str:
    """pending, ready, or expired once past its expiry."""
    if export.expires_at is not None and export.expires_at <= (now or utcnow()):
        return EXPIRED
    return export.status.value


def start_export(session: Session, ctx: RequestContext) -> tuple[OrganisationExport, Job]:
    """Start a full export of the organisation's data; the job writes it."""
    export_id = uuid.uuid4()
    job = enqueue_job(session, ctx, kind=EXPORT_KIND, params={"export_id": str(export_id)})
    principal = ctx.principal
    export = OrganisationExport(
        id=export_id,
        job_id=job.id,
        requested_by_id=principal.client_key[:200],
        requested_by_display=principal.display_name[:200],
    )
    session.add(export)
    session.flush()
    record_event(
        session,
        ctx,
        action=OffboardingAction.ExportStart,
        target_type="organisation_export",
        target_id=export.id,
        details={"job_id": str(job.id)},
    )
    return export, job


def get_export(session: Session, *, export_id: uuid.UUID) -> OrganisationExport:
    """One of the organisation's exports, or 404."""
    found = session.get(OrganisationExport, (require_organisation(session), export_id))
    if found is None:
        raise NotFound("no such export")
    return found


def list_exports(session: Session, *, limit: int, cursor: str | None) -> Page[OrganisationExport]:
    """The organisation's exports, newest first."""
    return paginate(
        session,
        select(OrganisationExport),
        keys=[OrganisationExport.id],
        limit=limit,
        cursor=cursor,
        descending=True,
    )


def _write(
    runtime: Runtime, ctx: JobContext, export_id: uuid.UUID, now: datetime, target: Path
) -> tuple[dict[str, int], int, str]:
    """Write the archive to ``target``; its counts, size and SHA-256."""

    def progress(done: int, total: int) -> None:
        ctx.raise_if_cancelled()
        ctx.progress(done, total)

    session = runtime.session(organisation_id=ctx.organisation_id)
    with archives.read_snapshot(session, postgresql=runtime.database.is_postgresql) as read:
        archive = OrganisationArchive(
            session=read,
            organisation_id=ctx.organisation_id,
            export_id=export_id,
            job_id=ctx.job_id,
            generated_at=now,
            spool_dir=target.parent,
            progress=progress,
        )
        size, sha256 = archives.write_archive(archive.zipped(), target)
    return archive.counts, size, sha256


@job_handler(EXPORT_KIND)
def write_export(session: Session, ctx: JobContext) -> dict[str, Any]:
    """Write the organisation's full export, then mark it ready (a retry rewrites the file)."""
    runtime = runtime_of(session)
    export_id = uuid.UUID(str(ctx.params["export_id"]))
    folder = export_folder(runtime, ctx.organisation_id)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"organisation-{export_id}.zip"
    partial = folder / f"organisation-{export_id}.{ctx.job_id}.part"
    now = utcnow()
    try:
        counts, size, sha256 = _write(runtime, ctx, export_id, now, partial)
        partial.replace(final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    export = session.get(OrganisationExport, (ctx.organisation_id, export_id))
    if export is None:
        final.unlink(missing_ok=True)
        raise JobFailed("the export no longer exists", retry=False)
    export.status = ExportStatus.ready
    export.completed_at = now
    export.expires_at = now + timedelta(days=runtime.settings.export_days)
    export.file, export.bytes, export.sha256 = final.name, size, sha256
    export.counts = counts
    session.flush()
    summary = {"bytes": size, "sha256": sha256, "expires_at": export.expires_at.isoformat()}
    record_event(
        session,
        ctx.request,
        action=OffboardingAction.ExportWrite,
        target_type="organisation_export",
        target_id=export.id,
        details=summary | {"job_id": str(ctx.job_id), "counts": counts},
    )
    total = sum(counts.values())
    ctx.progress(total, total)
    return summary | {"export_id": str(export_id), "counts": counts}


def open_export(
    session: Session, ctx: RequestContext, *, export_id: uuid.UUID
) -> archives.ExportDownload:
    """The export's file, opened; the download is audited."""
    export = get_export(session, export_id=export_id)
    status = status_of(export)
    if status == ExportStatus.pending.value:
        raise ExportNotReady(
            "the export is still being written; follow its job",
            extra={"job_id": str(export.job_id)},
        )
    path = export_folder(runtime_of(session), export.organisation_id) / str(export.file)
    if status == EXPIRED or not path.is_file():
        raise ExportExpired(
            "the export expired and was deleted; start a new one",
            extra={
                "expires_at": None if export.expires_at is None else export.expires_at.isoformat()
            },
        )
    record_event(
        session,
        ctx,
        action=OffboardingAction.ExportDownload,
        target_type="organisation_export",
        target_id=export.id,
        details={"bytes": export.bytes, "sha256": export.sha256},
    )
    try:
        # Open now: a file swept meanwhile still streams to the end.
        file = path.open("rb")
    except FileNotFoundError:
        raise ExportExpired("the export expired and was deleted") from None
    created = export.created_at.strftime("%Y%m%d")
    return archives.ExportDownload(
        file=file,
        size=os.fstat(file.fileno()).st_size,
        name=f"organisation-export-{created}-{export.id}.zip",
        sha256=str(export.sha256),
    )
