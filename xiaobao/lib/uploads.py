"""Upload checks: the type is sniffed from the bytes (never trusted from the name or the browser),
sizes are limited, and anything that could render as a page is refused."""

import codecs

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
# Names a browser runs when the file is opened from the disk it was downloaded to: refused whatever
# the bytes (plain text with an <img onerror> in it would pass the content check).
SCRIPT_EXTENSIONS = tuple(".html .htm .xhtml .shtml .svg .svgz .js .mjs .xml .xsl .hta".split())
IMAGES = {"image/png", "image/jpeg", "image/gif"}
# What a name's extension promises (any image for an image: phones rename freely). Bytes that are
# something else are refused, so that a script renamed 数据.xlsx does not pass as text. Other names
# are judged by their content alone.
PROMISES = {
    ".pdf": {"application/pdf"},
    ".png": IMAGES,
    ".jpg": IMAGES,
    ".jpeg": IMAGES,
    ".gif": IMAGES,
    ".docx": {ZIP_TYPES["word/"]},
    ".xlsx": {ZIP_TYPES["xl/"]},
    ".pptx": {ZIP_TYPES["ppt/"]},
    ".zip": {"application/zip", *ZIP_TYPES.values()},
    ".txt": {"text/plain"},
    ".csv": {"text/plain"},
}


def sniff_upload(upload, *, max_bytes: int) -> str:
    """Return the sniffed content type of an accepted upload, or raise ValidationError in Chinese."""
    if upload.size > max_bytes:
        raise ValidationError(_("文件过大: 最大 %(mb)s MB") % {"mb": max_bytes // (1024 * 1024)})
    if upload.size == 0:
        raise ValidationError(_("文件为空"))
    name = (upload.name or "").strip().lower()
    if name.endswith(SCRIPT_EXTENSIONS):
        raise ValidationError(_("不接受网页或脚本类文件"))
    content_type = _sniff(upload)
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    if suffix in PROMISES and content_type not in PROMISES[suffix]:
        raise ValidationError(_("文件内容与扩展名 %(ext)s 不符") % {"ext": suffix})
    return content_type


def _sniff(upload) -> str:
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
        # Incremental: the 4096th byte may fall inside a character of a long Chinese text.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        raise ValidationError(_("不支持的文件类型: 请上传 PDF、图片、Office 文档或纯文本")) from None
    return "text/plain"


def check_table_upload(upload) -> None:
    """An import file is a CSV or an Excel workbook: a page or a script is refused, by its name or its
    first bytes, and so is text under a workbook's name (it would otherwise be read as CSV)."""
    name = (upload.name or "").strip().lower()
    if name.endswith(SCRIPT_EXTENSIONS):
        raise ValidationError(_("不接受网页或脚本类文件"))
    head = upload.read(4096)
    upload.seek(0)
    if any(marker in head.lstrip().lower()[:512] for marker in HTML_MARKERS):
        raise ValidationError(_("不接受网页或脚本类文件"))
    if name.endswith((".xlsx", ".xlsm")) and not head.startswith(b"PK\x03\x04"):
        raise ValidationError(_("文件内容与扩展名 %(ext)s 不符") % {"ext": name[-5:]})
