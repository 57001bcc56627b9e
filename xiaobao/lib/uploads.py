"""Upload checks: the type is sniffed from the bytes (never trusted from the name or the browser),
sizes are limited, and anything that could render as a page is refused."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

SIGNATURES = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
]
ZIP_TYPES = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
HTML_MARKERS = (b"<!doctype", b"<html", b"<script", b"<svg", b"<?xml", b"<body", b"<iframe")


def sniff_upload(upload, *, max_bytes: int) -> str:
    """Return the sniffed content type of an accepted upload, or raise ValidationError in Chinese."""
    if upload.size > max_bytes:
        raise ValidationError(_("文件过大: 最大 %(mb)s MB") % {"mb": max_bytes // (1024 * 1024)})
    if upload.size == 0:
        raise ValidationError(_("文件为空"))
    head = upload.read(4096)
    upload.seek(0)
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head.startswith(b"PK\x03\x04"):
        import zipfile

        try:
            names = zipfile.ZipFile(upload).namelist()
        except zipfile.BadZipFile:
            raise ValidationError(_("文件已损坏, 无法识别")) from None
        finally:
            upload.seek(0)
        for prefix, content_type in ZIP_TYPES.items():
            if any(n.startswith(prefix) for n in names):
                return content_type
        return "application/zip"
    lowered = head.lstrip().lower()
    if any(marker in lowered for marker in HTML_MARKERS):
        raise ValidationError(_("不接受网页或脚本类文件"))
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError(_("不支持的文件类型: 请上传 PDF、图片、Office 文档或纯文本")) from None
    return "text/plain"
