"""Files answered as downloads: a ZIP export streamed from disk, never read into memory."""

from __future__ import annotations

from flask import Response, request
from werkzeug.wsgi import wrap_file

from ..common.archives import ExportDownload


def zip_download(found: ExportDownload) -> Response:
    """The answer that streams an opened export as an attachment, its length known."""
    response = Response(
        wrap_file(request.environ, found.file),
        mimetype="application/zip",
        direct_passthrough=True,
        headers={
            "Content-Disposition": f'attachment; filename="{found.name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
    response.content_length = found.size
    return response
