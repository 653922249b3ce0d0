"""ZIP exports written to disk: members spooled then streamed by stream-zip, one snapshot.

Shared by the data-subject request export (subject_requests/archive.py, export.py) and the
organisation's full export at the end of its contract (offboarding/archive.py, exports.py).
Each member is written to a spool file first (memory up to ``SPOOL_BYTES``, then an anonymous
temporary file beside the export), so the archive is never whole in memory and each member's
size is known before stream-zip writes it: the ZIP then uses Zip64 only past 4 GiB (macOS's
Archive Utility and older Windows read Zip64 badly). The archive goes to a temporary name and
is renamed when complete, so a retry simply writes it again.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from tempfile import SpooledTemporaryFile
from typing import IO, Any

from sqlalchemy.orm import Session
from stream_zip import ZIP_AUTO, MemberFile

SPOOL_BYTES = 1 << 20
CHUNK_BYTES = 64 * 1024
# zlib's own default: level 9 (stream-zip's default) takes about twice as long for a few
# per cent less.
COMPRESSION_LEVEL = 6


def instant(value: datetime | None) -> str | None:
    """An instant as the API writes it (common/schemas.py: …T…:….ffffffZ), cheaply."""
    if value is None:
        return None
    text = value.isoformat(timespec="microseconds")
    if text.endswith("+00:00"):
        return text[:-6] + "Z"
    if value.tzinfo is None:
        return text + "Z"
    return value.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def json_default(value: Any) -> Any:
    """JSON for what the database returns beyond JSON's own types."""
    if isinstance(value, datetime):
        return instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def to_json(value: Any) -> bytes:
    """A document of an export: UTF-8, indented, instants as the API writes them."""
    return json.dumps(value, default=json_default, ensure_ascii=False, indent=2).encode()


def json_line(value: Any) -> bytes:
    """One line of a JSON lines member."""
    return json.dumps(value, default=json_default, ensure_ascii=False).encode() + b"\n"


@dataclass(frozen=True)
class ExportDownload:
    """An opened export file and what its download answer says of it (http/downloads.py)."""

    file: IO[bytes]
    size: int
    name: str
    sha256: str


@dataclass
class Written:
    """One member as it went into the archive."""

    name: str
    size: int
    sha256: str


class MemberSpool:
    """Makes an archive's members from spool files, noting each one's size and SHA-256."""

    def __init__(self, *, generated_at: datetime, spool_dir: Path) -> None:
        self.generated_at = generated_at
        self.spool_dir = spool_dir
        self.written: list[Written] = []

    def spool(self) -> IO[bytes]:
        """A file to write one member to; closed once the member is written."""
        # Past SPOOL_BYTES an anonymous file (unlinked at once): nothing stays behind on an
        # error.
        return SpooledTemporaryFile(max_size=SPOOL_BYTES, dir=str(self.spool_dir))

    def member(self, name: str, spool: IO[bytes]) -> MemberFile:
        """The spooled member for stream-zip; recorded in ``written`` once streamed."""
        size = spool.seek(0, io.SEEK_END)
        digest = hashlib.sha256()

        def chunks() -> Iterator[bytes]:
            spool.seek(0)
            while chunk := spool.read(CHUNK_BYTES):
                digest.update(chunk)
                yield chunk
            self.written.append(Written(name, size, digest.hexdigest()))
            spool.close()

        return name, self.generated_at, 0o600, ZIP_AUTO(size, level=COMPRESSION_LEVEL), chunks()

    def document(self, name: str, value: Any) -> MemberFile:
        """A JSON document member."""
        spool = self.spool()
        spool.write(to_json(value))
        return self.member(name, spool)

    def files(self) -> list[dict[str, Any]]:
        """The manifest's list of members written so far."""
        return [{"name": w.name, "bytes": w.size, "sha256": w.sha256} for w in self.written]


def export_folder(root: Path, organisation_id: uuid.UUID) -> Path:
    """Where the organisation's exports are stored (FACITO_EXPORT_PATH/<organisation>)."""
    return root / str(organisation_id)


def read_snapshot(session: Session, *, postgresql: bool) -> Session:
    """``session``, reading one snapshot for every query of the export (counts and files agree).

    On PostgreSQL REPEATABLE READ, read-only; on SQLite a read transaction, which never holds
    the write lock a job's own session takes at its first statement.
    """
    if postgresql:
        session.connection(
            execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        )
    return session


def write_archive(chunks: Iterable[bytes], target: Path) -> tuple[int, str]:
    """Write the archive's bytes to ``target``, synced; its size and SHA-256."""
    digest, size = hashlib.sha256(), 0
    with target.open("wb") as out:
        for chunk in chunks:
            out.write(chunk)
            digest.update(chunk)
            size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return size, digest.hexdigest()
