import codecs
import zipfile

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xiaobao.book.importers import LABELS
from xiaobao.lib.uploads import check_table_upload

UPLOAD_LIMIT = 512 * 1024 * 1024  # larger extracts go through `xiaobao book-import` on the server
XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SNIFF_BYTES = 64 * 1024
HTML_MARKERS = (b"<!doctype", b"<html", b"<script", b"<svg", b"<?xml", b"<body", b"<iframe")


def sniff_table(upload) -> str:
    """ "xlsx" or "csv", judged from the bytes (never the name or the browser's word); ValidationError
    in Chinese for anything else, including an old .xls, an HTML page or a binary file."""
    if upload.size > UPLOAD_LIMIT:
        raise ValidationError(
            _("文件过大: 网页上传最大 %(mb)s MB, 更大的文件请在服务器上用 xiaobao book-import 导入")
            % {"mb": UPLOAD_LIMIT // (1024 * 1024)}
        )
    if upload.size == 0:
        raise ValidationError(_("文件为空"))
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    if head.startswith(XLS_MAGIC):
        raise ValidationError(_("不支持旧版 Excel (.xls) 文件: 请另存为 .xlsx 或 CSV 后上传"))
    if head.startswith(XLSX_MAGIC):
        try:
            names = zipfile.ZipFile(upload).namelist()
        except zipfile.BadZipFile:
            raise ValidationError(_("文件已损坏, 无法识别")) from None
        finally:
            upload.seek(0)
        if not any(name.startswith("xl/") for name in names):
            raise ValidationError(_("不支持的文件类型: 请上传 .csv 或 .xlsx 文件"))
        return "xlsx"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "csv"
    if b"\x00" in head or any(marker in head.lstrip().lower()[:512] for marker in HTML_MARKERS):
        raise ValidationError(_("不支持的文件类型: 请上传 .csv 或 .xlsx 文件"))
    # A script's name, or text under a workbook's name (保单.xlsx), is not read as CSV.
    check_table_upload(upload)
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return "csv"
    raise ValidationError(_("不支持的文件类型: 请上传 .csv 或 .xlsx 文件"))


class BookImportForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("数据类型"),
        choices=[(kind, gettext_lazy(label)) for kind, label in LABELS.items()],
    )
    file = forms.FileField(
        label=gettext_lazy("文件"), help_text=gettext_lazy(".csv (UTF-8 或 GB18030) 或 .xlsx, 中文或英文表头")
    )
    dry_run = forms.BooleanField(label=gettext_lazy("试运行 (只校验, 不写入)"), required=False)
    strict = forms.BooleanField(label=gettext_lazy("严格模式 (有任何错误行则整个文件不写入)"), required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        self.cleaned_data["format"] = sniff_table(upload)
        return upload
