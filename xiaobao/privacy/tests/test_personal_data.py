import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from xiaobao.audit.models import AuditEntry
from xiaobao.customers.models import Customer
from xiaobao.customers.services import customer_create
from xiaobao.lib.idcard import id_no_error, phone_error
from xiaobao.lib.masking import mask
from xiaobao.privacy import keys
from xiaobao.privacy.services import (
    holder_decrypt,
    master_key_rotate,
    personal_reveal,
    personal_token,
    subject_erase,
)


def test_masks_match_the_house_formats():
    assert mask("name", "张小三") == "张*三"
    assert mask("name", "李四") == "李*"
    assert mask("phone", "13812345678") == "138****5678"
    assert mask("id_no", "37020219800101123X") == "3702**********123X"
    assert mask("account", "6222020202026789") == "****6789"


@pytest.mark.parametrize(
    "value, problem",
    [
        ("11010519491231002X", None),
        ("110105194912310021", "校验位错误"),
        ("11010519491231002", "18 位"),
        ("11010519491332002X", "出生日期"),
        ("A1010519491231002X", "只能由"),
    ],
)
def test_id_numbers_are_checked_with_the_gb11643_check_digit(value, problem):
    error = id_no_error(value)
    if problem is None:
        assert error is None
    else:
        assert problem in error


def test_phone_numbers_must_be_mobiles_or_landlines_with_area_code():
    assert phone_error("13812345678") is None
    assert phone_error("0532-88886666") is None
    assert "无效" in phone_error("12345")


def test_values_are_encrypted_at_rest_and_masked(customer):
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM customers_customer WHERE id = %s", [customer.pk])
        raw_row = repr(cursor.fetchone())
    for secret in ("张小三", "11010519491231002X", "13812345678", "6222020202021234"):
        assert secret not in raw_row
        assert secret.encode().hex() not in raw_row
    stored = Customer.objects.get(pk=customer.pk)
    assert stored.name_masked == "张*三"
    assert stored.id_no_masked == "1101**********002X"
    assert holder_decrypt(stored, "id_no") == "11010519491231002X"


def test_tokens_match_equal_values_without_decrypting(tree, customer):
    other = customer_create(actor=None, unit=tree["C2"], name="李四", phone="138 1234 5678")
    assert other.phone_token == customer.phone_token
    assert other.phone_token == personal_token("phone", "13812345678")
    assert other.name_token != customer.name_token
    # A phone token and an account token of the same digits must differ: kinds are separated.
    assert personal_token("phone", "13812345678") != personal_token("account", "13812345678")


def test_invalid_id_number_is_refused_with_a_chinese_message_and_nothing_is_saved(tree):
    before = Customer.objects.count()
    with pytest.raises(ValidationError) as info:
        customer_create(actor=None, unit=tree["C1"], name="王五", id_no="110105194912310021")
    assert "校验位错误" in str(info.value)
    assert Customer.objects.count() == before


def test_reveal_needs_a_reason_and_is_audited(alice, customer):
    with pytest.raises(ValidationError):
        personal_reveal(actor=alice, holder=customer, prefix="phone", reason=" ")
    assert not AuditEntry.objects.filter(action="reveal").exists()
    value = personal_reveal(actor=alice, holder=customer, prefix="phone", reason="回访客户核实诉求")
    assert value == "13812345678"
    entry = AuditEntry.objects.get(action="reveal")
    assert entry.actor == alice
    assert entry.details == {"field": "phone", "reason": "回访客户核实诉求"}
    assert entry.object_id == str(customer.pk)
    assert entry.unit_code == "C1"


def test_rotating_the_master_key_keeps_values_and_tokens(customer, settings):
    token_before = customer.phone_token
    new = keys.new_key()
    count = master_key_rotate(new_key=new)
    assert count >= 2  # the token key and at least one subject key
    settings.FIELD_KEY = keys.encode_key(new)
    keys.clear_caches()
    stored = Customer.objects.select_related("subject").get(pk=customer.pk)
    assert holder_decrypt(stored, "phone") == "13812345678"
    assert personal_token("phone", "13812345678") == token_before


def test_a_wrong_master_key_is_refused_by_name(customer, settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.FIELD_KEY = keys.encode_key(keys.new_key())
    keys.clear_caches()
    with pytest.raises(ImproperlyConfigured, match="XIAOBAO_FIELD_KEY"):
        personal_token("phone", "13812345678")


def test_erasing_one_subject_leaves_everyone_else_readable(tree, alice, customer):
    other = customer_create(actor=None, unit=tree["C1"], name="李四", phone="13900001111")
    copied_ciphertext = bytes(customer.phone_enc)  # as if a backup or another table still held it
    subject_erase(actor=alice, subject=customer.subject, holders=[customer], reason="客户依法申请删除")
    erased = Customer.objects.select_related("subject").get(pk=customer.pk)
    assert erased.name_masked == "" and erased.phone_token == "" and erased.phone_enc is None
    erased.phone_enc = copied_ciphertext
    with pytest.raises(ValidationError, match="已按要求删除"):
        holder_decrypt(erased, "phone")
    assert (
        holder_decrypt(Customer.objects.select_related("subject").get(pk=other.pk), "phone") == "13900001111"
    )
    assert AuditEntry.objects.filter(action="erase").count() == 1
