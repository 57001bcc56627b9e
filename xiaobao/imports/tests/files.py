"""Helpers for import tests: write real files, run the real command, read the error file."""

import csv
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
from django.core.management import call_command
from django.core.management.base import CommandError


def write_csv(path: Path, rows: list[list[Any]], *, encoding: str = "utf-8", preamble: str = "") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_bytes((preamble + buffer.getvalue()).encode(encoding))
    return path


def write_xlsx(
    path: Path, rows: list[list[Any]], *, sheet: str = "Sheet1", extra_sheets: tuple[str, ...] = ()
) -> Path:
    workbook = openpyxl.Workbook()
    for name in extra_sheets:
        workbook.create_sheet(name).append(["not", "this", "sheet"])
    worksheet = workbook.active
    worksheet.title = sheet
    if extra_sheets:
        workbook.move_sheet(worksheet, offset=len(extra_sheets))
    for row in rows:
        worksheet.append(row)
    workbook.save(path)
    return path


def run_import(*args: Any) -> dict[str, Any]:
    """Run `xiaobao import ...`; the one JSON object it printed. Fails the test on a non-zero exit."""
    out, err = io.StringIO(), io.StringIO()
    call_command("import", *map(str, args), stdout=out, stderr=err)
    lines = out.getvalue().strip("\n").split("\n")
    assert len(lines) == 1, out.getvalue()
    return json.loads(lines[0])


def run_import_refused(*args: Any, returncode: int) -> tuple[dict[str, Any], str]:
    """Run an import expected to exit non-zero; (the JSON printed, the message for stderr)."""
    out = io.StringIO()
    try:
        call_command("import", *map(str, args), stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        assert exc.returncode == returncode, (exc.returncode, str(exc))
        lines = [line for line in out.getvalue().strip("\n").split("\n") if line]
        assert len(lines) <= 1
        return (json.loads(lines[0]) if lines else {}), str(exc)
    raise AssertionError(f"the import succeeded: {out.getvalue()}")


def read_errors(path: str) -> list[dict[str, Any]]:
    """The error file's rows as dicts by header."""
    workbook = openpyxl.load_workbook(path, read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    header = rows[0]
    return [dict(zip(header, row, strict=False)) for row in rows[1:]]


def check_invariant(summary: dict[str, Any]) -> None:
    counted = summary["created"] + summary["updated"] + summary["unchanged"] + summary["rejected"]
    assert summary["rows_read"] == counted, summary
