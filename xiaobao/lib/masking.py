"""How personal data is shown when it is not revealed: 张*三, 138****5678, 3702**********123X, ****6789,
山东省青岛市****."""

import re


def mask_name(value: str) -> str:
    value = value.strip()
    if len(value) <= 1:
        return "*" if value else ""
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


def mask_phone(value: str) -> str:
    digits = value.strip()
    if len(digits) <= 7:
        return "*" * max(len(digits) - 2, 0) + digits[-2:]
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_id_no(value: str) -> str:
    value = value.strip()
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_account(value: str) -> str:
    value = value.strip()
    return "****" + value[-4:] if len(value) > 4 else "****"


# The administrative head of an address: a province (省, 自治区, 特别行政区) and/or a city (市, 自治州,
# 地区, 盟), as in 山东省青岛市, 广西壮族自治区南宁市, 青岛市.
_REGION = re.compile(
    r"(?P<province>[^省市区县]{2,7}?(?:省|自治区|特别行政区))?(?P<city>[^省市区县]{1,7}?(?:市|自治州|地区|盟))?"
)
ADDRESS_HEAD = 6  # characters of an address shown at most


def mask_address(value: str) -> str:
    """The province and city, at most ADDRESS_HEAD characters, then ****: 山东省青岛市****. When the
    head is longer (黑龙江省哈尔滨市) the province alone; without one, the first two characters. At
    least two characters stay hidden, and the stars do not tell the length of the rest."""
    value = value.strip()
    found = _REGION.match(value)
    province = found.group("province") or ""
    city = found.group("city") or ""
    for head in (province + city, province, value[: min(2, len(value) // 3)]):
        if head and len(head) <= ADDRESS_HEAD and len(head) <= len(value) - 2:
            return head + "****"
    return "****"


MASKERS = {
    "name": mask_name,
    "phone": mask_phone,
    "id_no": mask_id_no,
    "account": mask_account,
    "address": mask_address,
}


def mask(kind: str, value: str | None) -> str:
    if not value:
        return ""
    return MASKERS[kind](value)
