"""Reading .csv and .xlsx files: encodings decided, never guessed; row numbers as Excel shows them."""

import datetime as dt
import hashlib

import openpyxl
import pytest

from xiaobao.imports.readers import detect_csv_encoding, file_sha256, open_table
from xiaobao.imports.spec import ImportRefused
from xiaobao.imports.tests.files import write_xlsx

TEXT = "工单号,客户姓名\r\nT1,张三\r\nT2,李四\r\n"


def rows_of(path, **kwargs):
    with open_table(path, **kwargs) as table:
        return [(n, list(cells)) for n, cells in table.rows], table


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("gb18030", "gb18030"),
        ("gbk", "gb18030"),
        ("utf-16", "utf-16"),
    ],
)
def test_csv_encodings(tmp_path, encoding, detected):
    path = tmp_path / "t.csv"
    path.write_bytes(TEXT.encode(encoding))

    rows, table = rows_of(path)

    assert table.encoding == detected
    assert rows == [(1, ["工单号", "客户姓名"]), (2, ["T1", "张三"]), (3, ["T2", "李四"])]


def test_ascii_is_utf8(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"a,b\r\n1,2\r\n")
    assert detect_csv_encoding(path) == "utf-8"


def test_damaged_utf8_is_refused_not_read_as_gbk(tmp_path):
    data = ("工单号,客户姓名\r\n" + "".join(f"T{i},张三丰\r\n" for i in range(50))).encode()
    path = tmp_path / "t.csv"
    path.write_bytes(data[:200] + data[201:])  # one byte of one character lost

    with pytest.raises(ImportRefused, match="UTF-8 编码, 但第 \\d+ 行起有 1 处损坏"):
        detect_csv_encoding(path)


def test_an_unknown_encoding_is_refused(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("code,name\r\nHQ,Café\r\n".encode("latin-1"))

    with pytest.raises(ImportRefused, match="无法识别文件编码"):
        detect_csv_encoding(path)


def test_a_quoted_line_break_is_still_one_row(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('工单号,诉求内容\r\nT1,"第一行\r\n第二行"\r\nT2,短\r\n', encoding="utf-8")

    rows, _ = rows_of(path)

    assert [n for n, _ in rows] == [1, 2, 3]
    assert rows[1][1][1] == "第一行\r\n第二行"


def test_tab_separated_text(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("工单号\t客户姓名\r\nT1\t张三, 先生\r\n", encoding="utf-8")

    rows, table = rows_of(path)

    assert table.delimiter == "\t"
    assert rows[1] == (2, ["T1", "张三, 先生"])


def test_a_broken_csv_is_refused_with_its_row(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('a,b\r\n1,2\r\n3,"4\r\n5,6\r\n', encoding="utf-8")  # the quote never closes

    with pytest.raises(ImportRefused, match="第 3 行"), open_table(path) as table:
        list(table.rows)


def test_xlsx_rows_keep_excel_row_numbers_and_types(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"], sheet["B1"] = "工单号", "受理时间"
    sheet["A2"], sheet["B2"] = 1101, dt.datetime(2024, 3, 5, 14, 30)
    sheet["A5"] = "T5"  # rows 3 and 4 empty
    workbook.save(tmp_path / "t.xlsx")

    rows, table = rows_of(tmp_path / "t.xlsx")

    assert table.format == "xlsx" and table.sheet == "Sheet"
    assert rows[1] == (2, [1101, dt.datetime(2024, 3, 5, 14, 30)])
    assert rows[-1][0] == 5 and rows[-1][1][0] == "T5"


def test_xlsx_sheet_by_name(tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", [["x"]], sheet="数据", extra_sheets=("封面",))

    rows, table = rows_of(path, sheet="数据")
    assert table.sheet == "数据" and rows == [(1, ["x"])]

    with pytest.raises(ImportRefused, match="没有名为 “明细” 的工作表 \\(现有: 封面、数据\\)"):
        rows_of(path, sheet="明细")


def test_xlsx_content_is_recognised_whatever_the_extension(tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", [["a"]])
    renamed = path.rename(tmp_path / "export.csv")

    rows, table = rows_of(renamed)

    assert table.format == "xlsx" and rows == [(1, ["a"])]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "旧版 Excel"),
        ("fake.xlsx", b"code,name\r\n", "不是 Excel 工作簿"),
        ("empty.csv", b"", "文件为空"),
        ("broken.xlsx", b"PK\x03\x04not really a zip", "无法打开 Excel"),
    ],
)
def test_unreadable_files_are_refused(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(ImportRefused, match=message), open_table(path):
        pass


def test_missing_file(tmp_path):
    with pytest.raises(ImportRefused, match="找不到文件"):
        file_sha256(tmp_path / "nope.csv")
    with pytest.raises(ImportRefused, match="找不到文件"), open_table(tmp_path / "nope.csv"):
        pass


def test_sha256(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"abc")
    assert file_sha256(path) == hashlib.sha256(b"abc").hexdigest()
