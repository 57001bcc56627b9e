"""English is a complete second language: every string in the code has a translation."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]
PO = PACKAGE / "locale" / "en" / "LC_MESSAGES" / "django.po"


def catalog(path: Path) -> dict[str, str]:
    entries = {}
    for block in path.read_text().split("\n\n"):
        if "#, fuzzy" in block and 'msgid ""\nmsgstr ""\n"Project' not in block:
            entries.setdefault("__fuzzy__", "")
        found = re.search(r'^msgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)', block, re.M)
        if found:
            msgid = "".join(re.findall(r'"(.*)"', found.group(1)))
            if msgid:
                entries[msgid] = "".join(re.findall(r'"(.*)"', found.group(2)))
    return entries


def test_every_english_entry_is_translated_and_none_is_fuzzy():
    entries = catalog(PO)
    assert "__fuzzy__" not in entries
    untranslated = [msgid for msgid, msgstr in entries.items() if not msgstr]
    assert untranslated == []


@pytest.mark.skipif(
    shutil.which("xgettext") is None, reason="gettext is installed by scripts/install.sh --test"
)
def test_the_catalog_covers_every_string_in_the_code(tmp_path):
    """Extract the strings afresh into a scratch copy and compare with the committed catalog."""
    copy = tmp_path / "xiaobao"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("static", "__pycache__", "tests", "*.mo"))
    subprocess.run(
        [sys.executable, "-m", "xiaobao", "makemessages", "-l", "en", "--no-obsolete"],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    fresh = set(catalog(copy / "locale" / "en" / "LC_MESSAGES" / "django.po")) - {"__fuzzy__"}
    missing = fresh - set(catalog(PO))
    assert missing == set(), "run makemessages -l en in xiaobao/ and translate these"
