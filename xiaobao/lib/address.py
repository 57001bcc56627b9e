"""地址: one address written many ways (spaces, full-width digits, Chinese or ASCII punctuation, 号 or #)
normalised to one form, so equal addresses get equal keyed-hash tokens.

The normal form: NFKC (full-width → half-width), latin case-folded, no whitespace at all, Chinese
punctuation as its ASCII twin (、→, 。→. 【】→() —→-), # as 号, quotes and middle dots dropped, no
trailing full stop or comma. A placeholder (无, 不详, 同上 …) or a value without a letter, digit or
ideograph is no address: it normalises to "" and so never links two records.
"""

import re
import unicodedata

from django.utils.translation import gettext as _

MAX_LENGTH = 200  # characters of the raw value, as the import and the forms accept it

# After NFKC, which already maps the full-width forms (（）［］，：；＃－～ and U+3000) to ASCII.
_PUNCTUATION = str.maketrans(
    {
        "、": ",",
        "，": ",",
        "。": ".",
        "；": ";",
        "：": ":",
        "【": "(",
        "】": ")",
        "〔": "(",
        "〕": ")",
        "〖": "(",
        "〗": ")",
        "[": "(",
        "]": ")",
        "{": "(",
        "}": ")",
        "—": "-",
        "–": "-",
        "―": "-",
        "‐": "-",
        "‑": "-",
        "−": "-",
        "~": "-",
        "〜": "-",
        "#": "号",
        "·": None,
        "•": None,
        "・": None,
        "'": None,
        '"': None,
        "‘": None,
        "’": None,
        "“": None,
        "”": None,
        "「": None,
        "」": None,
        "『": None,
        "』": None,
        "《": None,
        "》": None,
    }
)
_WHITESPACE = re.compile(r"\s+")
_TRAILING = ".,;:"
# What people type when there is no address; compared after normalisation.
PLACEHOLDERS = frozenset(
    {"无", "暂无", "没有", "不详", "未知", "同上", "空", "null", "none", "n/a", "na", "-", "0", "/"}
)
# A letter, a digit or an ideograph: without one the value is punctuation, not an address.
_MEANINGFUL = re.compile(r"[^\W_]")

# Values the column-wise import pass may take as they are (xiaobao.book.bulk, RE2 syntax): every
# string of these characters is already in normal form, and none is a placeholder once the
# PLACEHOLDERS are excluded. The property test in xiaobao/privacy/tests checks it.
PLAIN_SQL_RE = r"[\x{4e00}-\x{9fff}0-9a-z()\-]*[\x{4e00}-\x{9fff}0-9a-z][\x{4e00}-\x{9fff}0-9a-z()\-]*"


def _once(value: str) -> str:
    value = unicodedata.normalize("NFKC", value).casefold()
    value = _WHITESPACE.sub("", value.translate(_PUNCTUATION))
    return unicodedata.normalize("NFKC", value).rstrip(_TRAILING)


def normalize_address(value: str) -> str:
    """The normal form of an address ("" for none); normalising it again changes nothing."""
    value = value or ""
    for _round in range(4):  # casefold or NFKC may expose another change; it settles at once in practice
        again = _once(value)
        if again == value:
            break
        value = again
    if value in PLACEHOLDERS or not _MEANINGFUL.search(value):
        return ""
    return value


def address_error(value: str) -> str | None:
    if len(value) > MAX_LENGTH:
        return _("地址过长: 不超过 %(n)s 个字") % {"n": MAX_LENGTH}
    return None
