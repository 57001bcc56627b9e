"""地址 as personal data: one address written many ways gets one token; shown masked to its province
and city; encrypted on a customer like every other kind; the column-wise import's fast path passes
only values already in normal form."""

import duckdb
import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from xiaobao.customers.models import Customer
from xiaobao.customers.services import customer_address_set, customer_create, customer_find_or_create
from xiaobao.lib.address import PLACEHOLDERS, PLAIN_SQL_RE, normalize_address
from xiaobao.lib.masking import mask
from xiaobao.privacy.services import holder_decrypt, personal_normalize, personal_token

pytestmark = pytest.mark.django_db  # tokens need the token key, kept in the database

ONE_ADDRESS = [
    "山东省青岛市市南区香港中路10号3号楼1203室",
    "山东省 青岛市 市南区 香港中路 10 号 3 号楼 1203 室",
    "山东省青岛市市南区香港中路１０号３号楼１２０３室",  # full-width digits
    "山东省青岛市市南区香港中路10#3#楼1203室",  # # for 号
    "山东省青岛市市南区香港中路10号3号楼1203室。",  # a trailing full stop
    "\u3000山东省青岛市市南区香港中路10号\t3号楼1203室 ",  # ideographic space, tab
    "山东省青岛市市南区香港中路10＃3＃楼1203室",  # full-width #
]


def test_the_same_address_written_differently_is_one_normal_form():
    forms = {normalize_address(value) for value in ONE_ADDRESS}
    assert forms == {"山东省青岛市市南区香港中路10号3号楼1203室"}


@pytest.mark.parametrize(
    "a, b",
    [
        ("青岛市崂山区海尔路1号(A座)", "青岛市崂山区海尔路1号（A座）"),  # full-width brackets, case
        ("青岛市崂山区海尔路1号【a座】", "青岛市崂山区海尔路1号[A座]"),
        ("济南市历下区经十路12-3-401", "济南市历下区经十路12—3—401"),  # dashes
        ("济南市历下区经十路12－3～401", "济南市历下区经十路12-3-401"),
        ("烟台市芝罘区, 南大街8号", "烟台市芝罘区，南大街8号"),  # Chinese and ASCII commas
        ("烟台市芝罘区、南大街8号", "烟台市芝罘区,南大街8号"),
        ("Room 5, Block B, 8 Nanda St.", "room5,blockb,8nandast"),  # latin case, spaces, full stop
        ("临沂市兰山区“银雀山”路·6号", "临沂市兰山区银雀山路6号"),  # quotes and middle dots dropped
    ],
)
def test_punctuation_width_case_and_spacing_do_not_change_the_token(a, b):
    assert normalize_address(a) == normalize_address(b)
    assert personal_token("address", a) == personal_token("address", b) != ""


def test_different_addresses_keep_different_tokens():
    assert personal_token("address", "青岛市市南区香港中路10号") != personal_token(
        "address", "青岛市市南区香港中路11号"
    )
    # An address and a phone with the same text are different kinds of data.
    assert personal_token("address", "05321234567") != personal_token("phone", "05321234567")


@pytest.mark.parametrize("value", ["", "   ", "无", "不详", "同上", " 暂无。", "NULL", "-", "/", "——", "。"])
def test_blank_and_placeholder_addresses_are_no_address(value):
    assert normalize_address(value) == ""
    assert personal_token("address", value) == ""
    assert mask("address", normalize_address(value)) == ""


def test_too_long_an_address_is_refused_in_chinese():
    with pytest.raises(ValidationError, match="地址过长"):
        personal_normalize("address", "山东省青岛市" + "很长的路" * 60)


@pytest.mark.parametrize(
    "value, masked",
    [
        ("山东省青岛市市南区香港中路10号", "山东省青岛市****"),
        ("青岛市市南区香港中路10号", "青岛市****"),
        ("北京市朝阳区建国路88号", "北京市****"),
        ("黑龙江省哈尔滨市南岗区西大直街1号", "黑龙江省****"),  # 8 characters of head: the province
        ("内蒙古自治区呼和浩特市新城区", "内蒙古自治区****"),
        ("新疆维吾尔自治区乌鲁木齐市天山区", "新疆****"),  # no head of 6 or fewer
        ("香港中路10号", "香港****"),
        ("山东省青岛市", "山东省****"),  # never the whole address
        ("青岛", "****"),
    ],
)
def test_an_address_is_masked_to_its_province_and_city(value, masked):
    assert mask("address", value) == masked


ADDRESS_TEXT = st.text(
    alphabet=st.sampled_from(
        list("山东省青岛市区路号楼室无不详0１a-Ａ#＃()（）【】,，。.、 \u3000\t·“”—~'\u00a8\u0301e")
    ),
    max_size=16,
)


@settings(max_examples=400, deadline=None)
@given(value=ADDRESS_TEXT)
def test_normalising_twice_changes_nothing(value):
    once = normalize_address(value)
    assert normalize_address(once) == once
    # Tokens are the keyed hash of the normal form: a normalised value hashes as its raw forms.
    assert not once or once == once.strip()


@settings(max_examples=300, deadline=None)
@given(value=ADDRESS_TEXT | st.from_regex(r"[山东青岛市0-9a-z()\-]{1,8}", fullmatch=True))
def test_what_the_bulk_pass_takes_as_it_is_is_already_normal(value):
    """xiaobao.book.bulk passes a cell without Python when it matches PLAIN_SQL_RE and is no
    placeholder; such a cell must be its own normal form."""
    placeholders = ", ".join("'" + p.replace("'", "''") + "'" for p in sorted(PLACEHOLDERS))
    con = duckdb.connect()
    try:
        (fast,) = con.execute(
            f"SELECT regexp_full_match($1, '{PLAIN_SQL_RE}') AND $1 NOT IN ({placeholders})", [value]
        ).fetchall()[0]
    finally:
        con.close()
    if fast:
        assert normalize_address(value) == value


def test_a_customer_address_is_encrypted_tokenised_and_masked(tree):
    customer = customer_create(
        actor=None, unit=tree["C1"], name="张三", phone="13812345678", address=ONE_ADDRESS[1]
    )
    customer.refresh_from_db()
    assert customer.address_masked == "山东省青岛市****"
    assert customer.address_token == personal_token("address", ONE_ADDRESS[0])
    assert b"\xe9\x9d\x92\xe5\xb2\x9b" not in bytes(customer.address_enc)  # 青岛 is not in the ciphertext
    assert holder_decrypt(customer, "address") == "山东省青岛市市南区香港中路10号3号楼1203室"
    assert Customer.objects.filter(address_token=personal_token("address", ONE_ADDRESS[2])).count() == 1


def test_a_customer_found_again_takes_the_new_address_and_a_blank_one_keeps_it(tree):
    first = customer_create(actor=None, unit=tree["C1"], name="李四", phone="13900001111")
    assert first.address_token == "" and first.address_masked == ""

    found = customer_find_or_create(
        actor=None, unit=tree["C1"], name="李四", phone="13900001111", address="济南市历下区泉城路188号"
    )
    assert found.pk == first.pk
    found.refresh_from_db()
    assert found.address_masked == "济南市****"
    # The same address written differently is no change; a blank one keeps what is stored.
    assert not customer_address_set(actor=None, customer=found, address="济南市 历下区 泉城路１８８号。")
    again = customer_find_or_create(actor=None, unit=tree["C1"], name="李四", phone="13900001111")
    again.refresh_from_db()
    assert again.address_token == personal_token("address", "济南市历下区泉城路188号")
