"""Column-at-a-time helpers against their one-value originals: tokens equal personal_token, masks
equal xiaobao.lib.masking, the numpy cell checks never pass what the Python parsers refuse."""

import datetime as dt

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xiaobao.book import cellchecks, personal
from xiaobao.lib.idcard import id_check_char, id_no_error
from xiaobao.lib.masking import mask
from xiaobao.privacy.keys import system_key
from xiaobao.privacy.services import personal_token

VALUES = {
    "name": ["张三", "李", "欧阳娜娜", "司马 相如", "Ann Lee"],
    "id_no": ["11010519491231002X", "370102198001010007"],
    "phone": ["13812345678", "0532-12345678", "1381234"],
    "account": ["6222020202021234", "12345678"],
}


@pytest.mark.django_db
def test_tokens_and_masks_of_a_column_equal_those_of_single_values():
    table = pa.table(
        {
            "applicant_name": VALUES["name"],
            "applicant_id_no": VALUES["id_no"] + [None, "11010519491231002X", None],
            "applicant_phone": VALUES["phone"] + [None, "13812345678"],
            "insured_id_no": ["370102198001010007", None, None, None, "11010519491231002X"],
        }
    )
    derived = personal.derive(
        "policies",
        {name: table.column(name).combine_chunks() for name in table.column_names},
        system_key("token"),
    )
    for column, kind in (
        ("applicant_name", "name"),
        ("applicant_id_no", "id_no"),
        ("applicant_phone", "phone"),
        ("insured_id_no", "id_no"),
    ):
        values = table.column(column).to_pylist()
        assert derived[f"{column}_token"].to_pylist() == [
            personal_token(kind, v) if v else None for v in values
        ]
        assert derived[f"{column}_masked"].to_pylist() == [mask(kind, v) if v else None for v in values]


@pytest.mark.django_db
def test_sealing_a_column_keeps_nulls_and_binds_each_value_to_its_key():
    values = pa.array(["张三", None, "", "李四"])
    keys = pa.array(["P1", "P2", "P3", "P4"])

    sealed = personal.seal_column("policies", "applicant_name", values, keys).to_pylist()

    assert sealed[1] is None and sealed[2] is None
    assert personal.open_value("policies", "applicant_name", "P1", sealed[0]) == "张三"
    assert personal.open_value("policies", "applicant_name", "P4", sealed[3]) == "李四"
    assert sealed[0][:1] == b"\x01" and sealed[0][1:13] != sealed[3][1:13]  # a fresh nonce each


def _id(first17: str) -> str:
    return first17 + id_check_char(first17)


ID_CELLS = st.one_of(
    st.builds(
        lambda region, y, m, d, s: _id(f"{region}{y:04d}{m:02d}{d:02d}{s:03d}"),
        st.sampled_from(["370102", "110105", "012345"]),
        st.integers(1890, 2030),
        st.integers(0, 13),
        st.integers(0, 32),
        st.integers(0, 999),
    ),
    st.text(alphabet="0123456789Xx -", min_size=15, max_size=20),
    st.from_regex(r"[1-9]\d{16}[\dX]", fullmatch=True),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=st.lists(ID_CELLS, min_size=1, max_size=30))
def test_the_id_check_passes_exactly_what_the_python_check_passes(cells):
    today = dt.date.today()
    valid = cellchecks.id_no_valid(pa.array(cells), today).tolist()
    for cell, ok in zip(cells, valid, strict=True):
        # The vectorised check only passes a cell that needs no normalising and is valid.
        assert ok == (cell == cell.strip().replace(" ", "").upper() and id_no_error(cell) is None), cell


CELLS = st.text(alphabet=st.sampled_from(list("ab张三1 \t\u3000\u00a0\u2003\x1f\x00\ufffd,é")), max_size=6)


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(CELLS, min_size=1, max_size=20))
def test_dirty_flags_every_cell_python_would_strip_or_refuse(cells):
    flagged = cellchecks.dirty(pa.array(cells)).tolist()
    spaced = cellchecks.has_space(pa.array(cells)).tolist()
    for cell, dirty, space in zip(cells, flagged, spaced, strict=True):
        if cell and (cell != cell.strip() or "\x00" in cell or "\ufffd" in cell):
            assert dirty, repr(cell)
        if any(ch.isspace() for ch in cell):
            assert space, repr(cell)


MASKABLE = st.text(alphabet=st.sampled_from(list("张三丰李a1 X-é")), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(MASKABLE, min_size=1, max_size=10),
    kind=st.sampled_from(["name", "phone", "id_no", "account"]),
)
def test_masking_a_column_equals_masking_each_value(values, kind):
    values = [
        v.strip() or "x" for v in values
    ]  # mask() strips; normalised values never have surrounding blanks
    assert personal.mask_column(kind, pa.array(values)).to_pylist() == [mask(kind, v) for v in values]
