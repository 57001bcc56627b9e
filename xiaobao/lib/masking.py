"""How personal data is shown when it is not revealed: 张*三, 138****5678, 3702**********123X, ****6789."""


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


MASKERS = {"name": mask_name, "phone": mask_phone, "id_no": mask_id_no, "account": mask_account}


def mask(kind: str, value: str | None) -> str:
    if not value:
        return ""
    return MASKERS[kind](value)
