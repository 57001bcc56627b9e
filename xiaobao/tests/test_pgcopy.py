"""lib.pgcopy: rows as PostgreSQL's COPY text, read back by the server as the values they were."""

import datetime as dt
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models

from xiaobao.lib import pgcopy
from xiaobao.lib.pgcopy import CopyText

SH = ZoneInfo("Asia/Shanghai")


def _field(field: models.Field, name: str) -> models.Field:
    field.set_attributes_from_name(name)
    return field


FIELDS = [
    _field(models.BigAutoField(primary_key=True), "id"),
    _field(models.CharField(max_length=200, unique=True), "code"),
    _field(models.TextField(null=True), "body"),
    _field(models.BooleanField(null=True), "flag"),
    _field(models.DateTimeField(null=True), "at"),
    _field(models.DateField(null=True), "day"),
    _field(models.JSONField(null=True), "extra"),
    _field(models.IntegerField(null=True), "count"),
    _field(models.DecimalField(max_digits=12, decimal_places=2, null=True), "amount"),
]
SQL_TYPES = ["bigint", "text", "text", "boolean", "timestamptz", "date", "jsonb", "integer", "numeric(12, 2)"]
AWKWARD = [
    "tab\there",
    "line\nbreak",
    "carriage\rreturn",
    "back\\slash \\N",
    "\\",
    "",
    "中文 “引号” 'single' \"double\"",
    "emoji 😀 and ✓",
    "\\.",  # the old end-of-data marker, as a value
]


def _rows() -> list[list]:
    rows = []
    for i, text in enumerate(AWKWARD):
        rows.append(
            [
                i + 1,
                f"K-{i}\t{text}",
                text,
                i % 2 == 0,
                dt.datetime(2024, 2, 9 + i % 3, 23, 59, 59, 999999 * (i % 2), tzinfo=SH),
                dt.date(2024, 12, 31) + dt.timedelta(days=i),
                {"filed_by": text, "n": i, "nested": [text, {"k": None}], "flag": True},
                -i,
                Decimal("12345.60") + i,
            ]
        )
    rows.append([99, "K-none", None, None, None, None, None, None, None])
    rows.append([100, "K-scalars", "x", False, None, None, [1, "二", None], 0, Decimal("0.00")])
    return rows


def test_the_text_format_escapes_what_the_server_would_misread():
    text = CopyText(FIELDS[1:4])([["a\tb", "c\nd\\e\rf", None], ["g", "", True]]).decode()
    assert text == "a\\tb\tc\\nd\\\\e\\rf\t\\N\ng\t\tt\n"


def test_a_value_met_again_is_formatted_once_and_the_constant_tail_once(monkeypatch):
    dumped = []
    dumps = pgcopy.json.dumps

    def counting(value, **kwargs):
        dumped.append(value)
        return dumps(value, **kwargs)

    monkeypatch.setattr(pgcopy.json, "dumps", counting)
    extra = _field(models.JSONField(encoder=DjangoJSONEncoder), "extra")
    copy = CopyText([FIELDS[2], extra], [(FIELDS[7], 0), (FIELDS[6], {}), (FIELDS[3], None)])
    assert copy.tail == "0\t{}\t\\N"
    dumped.clear()
    day = dt.date(2024, 1, 1)
    same = {"filed_by": "Relative", "type": "INDV"}
    out = copy(
        [["同一段话", same], ["同一段话", dict(same)], ["另一段", {"at": day}], ["另一段", {"at": day}]]
    )
    assert out.decode().splitlines() == [
        '同一段话\t{"filed_by": "Relative", "type": "INDV"}\t0\t{}\t\\N',
        '同一段话\t{"filed_by": "Relative", "type": "INDV"}\t0\t{}\t\\N',
        '另一段\t{"at": "2024-01-01"}\t0\t{}\t\\N',
        '另一段\t{"at": "2024-01-01"}\t0\t{}\t\\N',
    ]
    # The flat dict of texts once; a dict holding a date each time (through the field's encoder).
    assert dumped == [same, {"at": day}, {"at": day}]


def test_json_values_that_compare_equal_in_python_keep_their_own_text():
    """1, 1.0 and True are one dict key in Python; as JSON they are three values."""
    extra = _field(models.JSONField(), "extra")
    rows = [[{"x": 1}], [{"x": True}], [{"x": 1.0}], [{"x": "1"}], [{"x": "1"}], [{"y": "1"}], [None]]
    assert CopyText([extra])(rows).decode().splitlines() == [
        '{"x": 1}', '{"x": true}', '{"x": 1.0}', '{"x": "1"}', '{"x": "1"}', '{"y": "1"}', "\\N"
    ]  # fmt: skip


def test_rows_of_the_wrong_width_are_refused():
    with pytest.raises(ValueError):
        CopyText(FIELDS[1:3])([["only one"]])


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL reads the COPY text")
def test_the_server_reads_back_exactly_the_values_written():
    rows = _rows()
    columns = ", ".join(f"{f.attname} {t}" for f, t in zip(FIELDS, SQL_TYPES, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE copied ({columns})")
        with cursor.cursor.copy("COPY copied FROM STDIN") as copy:
            copy.write(CopyText(FIELDS)(rows))
        cursor.execute("SELECT * FROM copied ORDER BY id")
        stored = [list(row) for row in cursor.fetchall()]
        cursor.execute("DROP TABLE copied")
    assert len(stored) == len(rows)
    for got, want in zip(stored, rows, strict=True):
        if got[6] is not None:
            got[6] = json.loads(got[6])  # Django's connection hands jsonb over as text
        assert got == want, (got, want)  # datetimes: the same instants (the server answers in UTC)
