"""居民身份证号码 (GB 11643-1999) and phone-number validation."""

import datetime as dt
import re

from django.utils.translation import gettext as _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
ID_RE = re.compile(r"^[1-9]\d{16}[\dX]$")
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


def id_check_char(first17: str) -> str:
    return CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


def normalize_id_no(value: str) -> str:
    return value.strip().replace(" ", "").upper()


def id_no_error(value: str) -> str | None:
    """Return a Chinese reason why `value` is not a valid 18-digit ID number, or None."""
    value = normalize_id_no(value)
    if len(value) != 18:
        return _("身份证号应为 18 位, 实际为 %(n)s 位") % {"n": len(value)}
    if not ID_RE.match(value):
        return _("身份证号只能由 17 位数字和 1 位数字或 X 组成")
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return _("身份证号中的出生日期 %(d)s 不存在") % {"d": value[6:14]}
    if birth.year < 1900 or birth > dt.date.today():
        return _("身份证号中的出生日期 %(d)s 不合理") % {"d": value[6:14]}
    expected = id_check_char(value[:17])
    if value[17] != expected:
        return _("身份证号校验位错误: 应为 %(e)s, 实际为 %(a)s") % {"e": expected, "a": value[17]}
    return None


def normalize_phone(value: str) -> str:
    value = re.sub(r"[\s()]", "", value.strip())
    if value.startswith("+86"):
        value = value[3:]
    return value


def phone_error(value: str) -> str | None:
    value = normalize_phone(value)
    if MOBILE_RE.match(value) or LANDLINE_RE.match(value):
        return None
    return _("电话号码 %(v)s 无效: 应为 11 位手机号或带区号的固话 (如 0532-12345678)") % {"v": value}


def normalize_account(value: str) -> str:
    return re.sub(r"[\s-]", "", value.strip())


def account_error(value: str) -> str | None:
    value = normalize_account(value)
    if not re.fullmatch(r"\d{8,30}", value):
        return _("银行账号应为 8 到 30 位数字")
    return None
