"""乱码 (mojibake): text that was decoded with the wrong codec somewhere before it reached us.

A file can be perfectly valid UTF-8 and still carry garbage, because an earlier program read GBK
bytes as Latin-1, or UTF-8 bytes as GBK, and saved what it saw. Such text has tell-tale shapes: the
damage can be undone by re-encoding with the wrong codec and decoding with the right one. That is
the test here. It is a heuristic for one value; callers judge a whole column by the share of its
values that fail, so one unlucky real name never condemns a file.
"""

import re

# What decoders leave for unreadable bytes, and how that replacement character itself looks after
# a second trip through GBK (锟斤拷) or as uninitialised MSVC memory (烫烫烫, 屯屯屯).
TELLTALES = ("\ufffd", "锟斤拷", "烫烫烫", "屯屯屯")
# Private-use code points never occur in exported business data; GB18030 decoding of UTF-8 makes them.
_PRIVATE_USE_RE = re.compile("[\ue000-\uf8ff]")
_LATIN1_RUN_RE = re.compile("[\u0080-\u00ff]+")
_CJK_RE = re.compile("[\u3400-\u9fff]")


def _undoes(text: str, wrong: str, right: str) -> str | None:
    """`text` re-encoded with the codec that mangled it and decoded with the right one, if that works."""
    try:
        repaired = text.encode(wrong).decode(right)
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None
    return repaired if repaired != text else None


def looks_mojibake(text: str) -> bool:
    """True when `text` shows the shape of a wrong decoding. ASCII text never does."""
    if text.isascii():
        return False
    if any(mark in text for mark in TELLTALES) or _PRIVATE_USE_RE.search(text):
        return True
    # UTF-8 read as Latin-1 or Windows-1252: 机构 became æœºæž„.
    for wrong in ("latin-1", "cp1252"):
        repaired = _undoes(text, wrong, "utf-8")
        if repaired is not None and not repaired.isascii():
            return True
    # GBK read as Latin-1: every Chinese character became a pair of accented letters (»ú¹¹). Real
    # European words have single accented letters between plain ones, so runs must pair up.
    runs = _LATIN1_RUN_RE.findall(text)
    if runs and all(len(run) % 2 == 0 for run in runs):
        repaired = _undoes(text, "latin-1", "gb18030")
        if repaired is not None and _CJK_RE.search(repaired):
            return True
    # UTF-8 read as GBK: 机构代码 became 鏈烘瀯浠ｇ爜.
    repaired = _undoes(text, "gb18030", "utf-8")
    return repaired is not None and bool(_CJK_RE.search(repaired))
