"""Attachments of governance records (evidence, plan files, rule versions): sniffed, hashed, sized,
stored under their SHA-256, and only ever served as a download."""

import hashlib
import mimetypes

from django.core.files.base import ContentFile
from django.http import FileResponse

from xiaobao.lib.uploads import sniff_upload

MAX_BYTES = 20 * 1024 * 1024
EXTENSIONS = {"text/plain": ".txt", "application/zip": ".zip"}


def attachment_fill(attachment, upload, *, actor) -> None:
    """Check the upload and put its bytes, name, hash and type on `attachment` (not saved).

    1. Sniff the type from the content (ValidationError for pages, scripts and unknown binaries).
    2. Hash the bytes; the stored name is the hash, so a file name never reaches the file system.
    """
    content_type = sniff_upload(upload, max_bytes=MAX_BYTES)
    data = upload.read()
    digest = hashlib.sha256(data).hexdigest()
    ext = EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type) or ".bin"
    attachment.original_name = (upload.name or digest)[:255]
    attachment.sha256 = digest
    attachment.content_type = content_type
    attachment.size = len(data)
    attachment.uploaded_by = actor if actor is not None and actor.is_authenticated else None
    attachment.file.save(f"{digest}{ext}", ContentFile(data), save=False)


def upload_sha256(upload) -> str:
    """The SHA-256 of an upload, leaving it ready to be read again."""
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def attachment_response(attachment) -> FileResponse:
    # Always an attachment with the sniffed type: an upload is never rendered as a page.
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
