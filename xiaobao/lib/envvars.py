"""Read XIAOBAO_* environment variables, failing loudly on malformed values.

Each helper raises ImproperlyConfigured with the variable's name, so start-up stops with a
message an operator can act on instead of running with a silently wrong setting.
"""

import os
import zoneinfo

from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return value.strip() if value is not None else None


def env_str(name: str, default: str | None = None) -> str | None:
    value = _raw(name)
    return default if value in (None, "") else value


def env_bool(name: str, default: bool = False) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise ImproperlyConfigured(f"{name}: 应为 true/false (1/0), 实际为 {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}: 应为整数, 实际为 {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}: 不得小于 {minimum}, 实际为 {number}")
    return number


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default).lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}: 应为 {' 或 '.join(choices)} 之一, 实际为 {value!r}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value in (None, ""):
        return default
    items = [item.strip() for item in value.split(",")]
    if any(not item for item in items):
        raise ImproperlyConfigured(f"{name}: 逗号分隔的列表中有空项: {value!r}")
    return items


def env_timezone(name: str, default: str) -> str:
    value = env_str(name, default)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(f"{name}: 未知时区 {value!r}, 例如 Asia/Shanghai") from None
    return value


def env_database(name: str, default: str) -> dict:
    import dj_database_url

    value = env_str(name, default)
    try:
        config = dj_database_url.parse(value, conn_max_age=60)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: 无法解析数据库地址 {value!r}: {exc}") from None
    if not config.get("ENGINE"):
        raise ImproperlyConfigured(f"{name}: 不支持的数据库类型 {value!r}, 请用 sqlite:/// 或 postgres://")
    return config


def env_smtp(name: str) -> dict:
    """Parse smtp://user:pass@host:port?tls=1 into Django EMAIL_* settings."""
    from urllib.parse import parse_qs, unquote, urlsplit

    value = env_str(name)
    if not value:
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    parts = urlsplit(value)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ImproperlyConfigured(f"{name}: 应为 smtp://用户:密码@主机:端口, 实际为 {value!r}")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError:
        raise ImproperlyConfigured(f"{name}: 端口无效: {value!r}") from None
    query = parse_qs(parts.query)
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_USE_TLS": query.get("tls", ["0"])[0] in TRUE,
    }
