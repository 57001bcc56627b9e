"""Group-bot webhooks (群机器人): post a text message to a WeCom (企业微信) or DingTalk (钉钉) group.

Plain urllib, so no HTTP library is needed for two JSON POSTs. Both services answer HTTP 200 with
`{"errcode": 0, ...}` on success and a non-zero errcode (bad key, bad signature, rate limit) with the
same HTTP 200, so the errcode is checked too. Error messages never contain the URL: its query string
holds the bot's key.
"""

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request

TIMEOUT = 10  # seconds; the worker must not hang on an unreachable bot
# WeCom refuses text content over 2048 bytes of UTF-8; DingTalk accepts more, the smaller limit serves both.
TEXT_LIMIT_BYTES = 2048
ELLIPSIS = "…"


class WebhookError(Exception):
    """The bot did not take the message; the text says why, in Chinese, without the URL."""


def truncate_utf8(text: str, limit: int = TEXT_LIMIT_BYTES) -> str:
    """Cut `text` to at most `limit` bytes of UTF-8 without splitting a character, marking the cut."""
    data = text.encode()
    if len(data) <= limit:
        return text
    room = limit - len(ELLIPSIS.encode())
    return data[:room].decode(errors="ignore") + ELLIPSIS


def post_json(url: str, payload: dict, *, timeout: float = TIMEOUT) -> dict:
    """POST `payload` as JSON and return the decoded JSON answer ({} when the answer is not JSON).

    1. Refuse anything but http(s): urllib would also open file:// and ftp:// URLs.
    2. Send the body as UTF-8 JSON with a timeout.
    3. Turn HTTP errors, network errors and a non-zero `errcode` into WebhookError.
    """
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise WebhookError(f"群机器人地址应以 http:// 或 https:// 开头, 实际为 {scheme or '(空)'}://")
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(65536)
    except urllib.error.HTTPError as exc:
        detail = exc.read(200).decode(errors="replace").strip()
        raise WebhookError(f"群机器人返回 HTTP {exc.code}" + (f": {detail}" if detail else "")) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WebhookError(f"无法连接群机器人: {reason}") from None
    try:
        answer = json.loads(body) if body.strip() else {}
    except ValueError:
        # A relay in front of the bot may answer with plain text; HTTP 2xx is then the only signal.
        return {}
    if isinstance(answer, dict) and answer.get("errcode", 0) != 0:
        raise WebhookError(f"群机器人拒绝消息: errcode {answer.get('errcode')}, {answer.get('errmsg', '')}")
    return answer if isinstance(answer, dict) else {}


def wecom_send_text(*, url: str, content: str, timeout: float = TIMEOUT) -> None:
    """企业微信群机器人: a text message, cut to the 2048-byte limit."""
    post_json(url, {"msgtype": "text", "text": {"content": truncate_utf8(content)}}, timeout=timeout)


def dingtalk_sign(*, secret: str, timestamp_ms: int) -> str:
    """钉钉加签: base64(HMAC-SHA256(key=secret, "timestamp\\nsecret")), as DingTalk's docs define it."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def dingtalk_signed_url(url: str, *, secret: str, timestamp_ms: int | None = None) -> str:
    """Append timestamp and sign to the bot URL; DingTalk refuses a timestamp more than an hour off."""
    timestamp_ms = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    query = urllib.parse.urlencode(
        {"timestamp": timestamp_ms, "sign": dingtalk_sign(secret=secret, timestamp_ms=timestamp_ms)}
    )
    return url + ("&" if urllib.parse.urlsplit(url).query else "?") + query


def dingtalk_send_text(*, url: str, content: str, secret: str = "", timeout: float = TIMEOUT) -> None:
    """钉钉群机器人: a text message; with a secret the URL is signed (the bot's 加签 security setting)."""
    target = dingtalk_signed_url(url, secret=secret) if secret else url
    post_json(target, {"msgtype": "text", "text": {"content": truncate_utf8(content)}}, timeout=timeout)
